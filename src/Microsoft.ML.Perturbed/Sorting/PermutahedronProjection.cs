namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Shared machinery of <see cref="SoftRank"/> and <see cref="SoftSort"/>: soft operators defined by a regularized
/// projection onto the permutahedron (Blondel, Teboul, Berthet, Djolonga 2020, "Fast Differentiable Sorting and
/// Ranking"). Each row costs one O(n log n) sort plus an O(n) PAV isotonic regression; the JVP and VJP are exact
/// (the solution is piecewise, its Jacobian block-structured by the PAV blocks) and cost O(n) more.
/// </summary>
/// <remarks>
/// <para><b>ε = 0</b> returns the limit ε → 0⁺: exact sorts, and exact ranks in which tied values share their average
/// rank. Its derivative is the limit one: a permutation for sorts, zero for ranks.</para>
/// <para><b>Ties</b> need no rule: tied inputs always land in one PAV block, so they get equal soft ranks.</para>
/// </remarks>
internal abstract class PermutahedronProjection : RowOperator
{
    private protected PermutahedronProjection(int dimension, double epsilon, SoftRegularization regularization, SortDirection direction)
        : base(dimension, dimension)
    {
        if (!(epsilon >= 0) || !double.IsFinite(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon,
                $"'{nameof(epsilon)}' (the regularization strength) must be a finite number ≥ 0, got {epsilon}.");
        }
        if (!Enum.IsDefined(regularization))
        {
            throw new ArgumentOutOfRangeException(nameof(regularization), regularization, "Unknown regularization.");
        }
        if (!Enum.IsDefined(direction))
        {
            throw new ArgumentOutOfRangeException(nameof(direction), direction, "Unknown sort direction.");
        }
        Epsilon = epsilon;
        Regularization = regularization;
        Direction = direction;
    }

    /// <summary>Regularization strength ε ≥ 0: 0 gives the hard operator, larger values smooth more.</summary>
    public double Epsilon { get; }

    /// <inheritdoc/>
    private protected override double Strength => Epsilon;

    /// <summary>
    /// Whether the row is at the operator's ε → 0 limit exactly: sorted by <paramref name="sign"/>·θ, every gap between
    /// distinct neighbours exceeds ε·<paramref name="spread"/> (the reference's range plus log n), so PAV pools only
    /// tied inputs, and the hard result is the soft one. Used when θ/ε or n/ε would leave double's range, where the
    /// scaled computation cannot run; computed with products, so it never overflows.
    /// </summary>
    private protected bool AtHardLimit(Workspace w, double sign, double spread)
    {
        SortScaled(w, sign);
        double margin = Epsilon * (spread + Math.Log(Dimension) + 1);
        ReadOnlySpan<double> s = w.Sorted;
        for (int k = 0; k + 1 < Dimension; k++)
        {
            double gap = s[k] - s[k + 1];
            if (gap != 0 && !(gap > margin)) return false;
        }
        return true;
    }

    /// <summary>Whether scaling the row by 1/ε (or the reference by 1/ε) could leave double's range.</summary>
    private protected bool ScaledOverflows(Workspace w, double referenceMagnitude)
    {
        double max = referenceMagnitude;
        foreach (double x in w.Input) max = Math.Max(max, Math.Abs(x));
        return max > Epsilon * (1e300 / Dimension);
    }

    private protected ArgumentOutOfRangeException TooSmall() => new("epsilon", Epsilon,
        $"The regularization strength ε = {Epsilon} is too small for these inputs: θ/ε leaves double precision while the row is not at its ε → 0 limit. Use a larger ε, or ε = 0 for the hard operator.");

    /// <summary>L2 (quadratic) or KL (entropic) regularization.</summary>
    public SoftRegularization Regularization { get; }

    /// <summary>Ascending or descending.</summary>
    public SortDirection Direction { get; }

    /// <inheritdoc/>
    public override bool HasJvp => true;

    /// <summary>Computes the operator and the Jacobian-vector product J t of every row (exact).</summary>
    /// <param name="theta">Inputs θ, <c>[batch × n]</c>.</param>
    /// <param name="tangent">Direction t, <c>[batch × n]</c>.</param>
    /// <param name="solution">Destination for the operator's output.</param>
    /// <param name="jvp">Destination for J t.</param>
    /// <param name="draw">Ignored: the operator is deterministic.</param>
    public override void ForwardJvp(ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw = 0)
        => Run(theta, solution, tangent, jvp, RowMode.Jvp);

    private protected override RowWorkspace CreateWorkspace() => new Workspace(Dimension);

    private protected override void ComputeRow(RowWorkspace w, RowMode mode) => ComputeRow((Workspace)w, mode);

    private protected abstract void ComputeRow(Workspace w, RowMode mode);

    /// <summary>
    /// Sorts <c>w.Sorted</c> := <paramref name="scale"/>·θ in decreasing order (ties: lower index first) and records the
    /// permutation in <c>w.Order</c> (sorted position k holds input index Order[k]). Throws when the scaled values overflow.
    /// </summary>
    private protected void SortScaled(Workspace w, double scale)
    {
        int n = Dimension;
        if (w.SingleInput)
        {
            // Single-precision inputs: sort packed (value, index) keys (Oracles/SortKeys.cs: a sorting network or radix by length). The order of
            // scale·θ is that of θ for scale > 0 and of −θ otherwise; −θ is exact in single precision.
            Span<ulong> keys = w.Keys;
            for (int i = 0; i < n; i++)
            {
                float v = (float)w.Input[i];
                keys[i] = Oracles.SortKeys.Descending(scale > 0 ? v : -v, i);
            }
            Oracles.SortKeys.SortFilled(keys);
            for (int k = 0; k < n; k++)
            {
                int index = Oracles.SortKeys.Index(keys[k]);
                w.Order[k] = index;
                w.Sorted[k] = Scaled(w, scale, index);
            }
            return;
        }
        // Double precision: order-preserving 64-bit keys of −x (so ascending keys = descending x) sorted with their indices.
        // A primitive key/item sort boxes no comparer; the order among exact ties is deterministic, and ties pool anyway.
        Span<ulong> doubleKeys = w.Keys;
        for (int i = 0; i < n; i++)
        {
            ulong bits = BitConverter.DoubleToUInt64Bits(-Scaled(w, scale, i) + 0.0);
            doubleKeys[i] = (bits & 0x8000_0000_0000_0000UL) != 0 ? ~bits : bits | 0x8000_0000_0000_0000UL;
            w.Order[i] = i;
        }
        doubleKeys.Sort(w.Order.AsSpan());
        for (int k = 0; k < n; k++)
        {
            w.Sorted[k] = scale * w.Input[w.Order[k]];
        }
    }

    private double Scaled(Workspace w, double scale, int i)
    {
        double x = scale * w.Input[i];
        if (!double.IsFinite(x))
        {
            throw new ArgumentOutOfRangeException("epsilon", Epsilon,
                $"The regularization strength ε = {Epsilon} is too small for inputs of magnitude {Math.Abs(w.Input[i])}: θ/ε overflows. Use a larger ε, or ε = 0 for the hard operator.");
        }
        return x;
    }

    /// <summary>
    /// Projection of sign·θ/ε onto the permutahedron of a reference vector w (sorted decreasingly, positive for KL):
    /// L2 computes v = PAV-L2(s − w) and returns s − v; KL computes v = PAV-KL(s, log w) and returns exp(s − v);
    /// each value goes back to its input's position. Soft ranks use w = (n, …, 1); soft quantile normalization uses
    /// the target quantiles. ε = 0 gives the hard result, in which a run of tied inputs shares the mean of its entries of w.
    /// </summary>
    private protected void ProjectOntoReference(Workspace w, RowMode mode, double[] reference, double[] logReference)
    {
        int n = Dimension;
        double sign = Direction == SortDirection.Ascending ? 1 : -1;
        Span<double> s = w.Sorted, p = w.Values;
        int[] order = w.Order;
        double spread = Regularization == SoftRegularization.L2 ? reference[0] - reference[n - 1] : logReference[0] - logReference[n - 1];
        bool hard = Epsilon == 0;
        if (!hard && ScaledOverflows(w, 0))
        {
            hard = AtHardLimit(w, sign, Math.Abs(spread)) ? true : throw TooSmall();
        }
        if (hard)
        {
            // Limit ε → 0⁺ (requested, or reached exactly): hard ranks/quantiles; a run of tied values shares the mean of
            // its entries. Derivative: zero.
            SortScaled(w, sign);
            for (int a = 0, b; a < n; a = b)
            {
                for (b = a + 1; b < n && s[b] == s[a]; b++) { }
                double mean = 0;
                for (int k = a; k < b; k++) mean += reference[k];
                mean /= b - a;
                for (int k = a; k < b; k++) w.Output[order[k]] = mean;
            }
            w.Derivative.AsSpan().Clear();
            return;
        }

        SortScaled(w, sign / Epsilon);
        // The output is written per PAV block B as (s_k − mean_B s) + mean_B w (L2) or exp(s_k − LSE(s_B) + LSE(log w_B)) (KL):
        // equal to s − v and exp(s − v), but without cancelling |s| ≫ |w| — a singleton block gives exp(log w_k) whatever θ/ε is.
        if (Regularization == SoftRegularization.L2)
        {
            for (int k = 0; k < n; k++) p[k] = s[k] - reference[k];
            w.Blocks = IsotonicRegression.L2(p, w.Solution, w.Scratch, w.BlockEnds);
            for (int b = 0, a = 0; b < w.Blocks; a = w.BlockEnds[b], b++)
            {
                int end = w.BlockEnds[b];
                double meanS = IsotonicRegression.Mean(s, a, end), meanW = IsotonicRegression.Mean(reference, a, end);
                for (int k = a; k < end; k++) p[k] = (s[k] - meanS) + meanW;
            }
        }
        else
        {
            logReference.CopyTo(p);
            w.Blocks = IsotonicRegression.KL(s, p, w.Solution, w.Scratch, w.BlockEnds);
            // PAV leaves each block's LSE(log w_B) as max and scaled sum at Scratch[2n + b], Scratch[3n + b]. s is sorted
            // decreasingly, so a block's max is its first entry: t = s − max_B s ≤ 0 exactly, and both exponentials run
            // vectorized over the whole row.
            Span<double> t = w.Solution, e = w.Values;
            ReadOnlySpan<double> maxW = w.Scratch.AsSpan(2 * n, w.Blocks), sumW = w.Scratch.AsSpan(3 * n, w.Blocks);
            for (int b = 0, a = 0; b < w.Blocks; a = w.BlockEnds[b], b++)
            {
                for (int k = a; k < w.BlockEnds[b]; k++) t[k] = s[k] - s[a];
            }
            System.Numerics.Tensors.TensorPrimitives.Exp(t, e);
            for (int b = 0, a = 0; b < w.Blocks; a = w.BlockEnds[b], b++)
            {
                int end = w.BlockEnds[b];
                double sum = 0;
                for (int k = a; k < end; k++) sum += e[k];
                double shift = maxW[b] + Math.Log(sumW[b] / sum);
                for (int k = a; k < end; k++) t[k] += shift;
            }
            System.Numerics.Tensors.TensorPrimitives.Exp(t, p);
        }
        for (int k = 0; k < n; k++) w.Output[order[k]] = p[k];
        if (mode == RowMode.Forward)
        {
            return;
        }

        // Within a PAV block B, ∂p/∂s = I − (1/|B|)·11ᵀ (L2) or diag(p)(I − 1·softmax(s_B)ᵀ) (KL); ∂s/∂θ = sign/ε.
        double c = sign / Epsilon;
        double[] g = w.Direction, softmax = w.Scratch;
        for (int b = 0, a = 0; b < w.Blocks; a = w.BlockEnds[b], b++)
        {
            int end = w.BlockEnds[b];
            if (Regularization == SoftRegularization.L2)
            {
                double mean = 0;
                for (int k = a; k < end; k++) mean += g[order[k]];
                mean /= end - a;
                for (int k = a; k < end; k++) w.Derivative[order[k]] = c * (g[order[k]] - mean);
            }
            else
            {
                BlockSoftmax(s, a, end, softmax);
                double sum = 0;
                if (mode == RowMode.Vjp)
                {
                    for (int k = a; k < end; k++) sum += g[order[k]] * p[k];   // u = g ⊙ r
                    for (int k = a; k < end; k++) w.Derivative[order[k]] = c * (g[order[k]] * p[k] - softmax[k] * sum);
                }
                else
                {
                    for (int k = a; k < end; k++) sum += softmax[k] * g[order[k]];
                    for (int k = a; k < end; k++) w.Derivative[order[k]] = c * p[k] * (g[order[k]] - sum);
                }
            }
        }
    }

    /// <summary>Softmax of <paramref name="s"/> over the block [a, b) into <paramref name="softmax"/>[a, b), computed stably.</summary>
    private protected static void BlockSoftmax(ReadOnlySpan<double> s, int a, int b, Span<double> softmax)
    {
        double max = double.NegativeInfinity;
        for (int k = a; k < b; k++) max = Math.Max(max, s[k]);
        double sum = 0;
        for (int k = a; k < b; k++) sum += softmax[k] = Math.Exp(s[k] - max);
        for (int k = a; k < b; k++) softmax[k] /= sum;
    }

    /// <summary>Per-thread buffers for one row.</summary>
    private protected sealed class Workspace(int n) : RowWorkspace(n, n)
    {
        public readonly double[] Sorted = new double[n], Solution = new double[n], Values = new double[n], Scratch = new double[4 * n];
        public readonly int[] Order = new int[n], BlockEnds = new int[n];
        public readonly ulong[] Keys = new ulong[n];
        public int Blocks;
    }

}
