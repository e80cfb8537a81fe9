namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Soft sort by projection onto the permutahedron (Blondel et al. 2020, §5): s_ε(θ) = P(θ, ρ/ε) with ρ = (n, …, 1).
/// The output is sorted in the requested direction and lies in [min θ, max θ]; it tends to the exact sort as ε → 0 and,
/// as ε → ∞, to the mean (L2) or to the log-mean-exp sign·(LSE(sign·θ) − log n) (KL).
/// L2 keeps the sum, Σ out = Σ θ; KL keeps LSE(sign·out) = LSE(sign·θ) (that is Σ exp(sign·out) = Σ exp(sign·θ)), not the
/// sum, with sign = −1 ascending, +1 descending. Both hold at every finite float input, to the precision of the
/// arithmetic: the sum within a few float roundings of Σ|θ|, the LSE within a few of max(1, max|θ|).
/// </summary>
/// <remarks>
/// With u = sign·θ sorted decreasingly into s and z = ρ/ε: L2 computes v = PAV-L2(z − s), KL computes
/// v = PAV-KL(z, s), and the output is sign·(z − v). Example (ascending, L2): soft sort of [5, 1, 2] is
/// [1.667, 2.667, 3.667] at ε = 1 and [1, 2, 5] at ε = 0.1.
/// <para>Only ε·θ sets the smoothing: at ε = 1, values of magnitude 1e30 pool into one block, so L2 returns their mean
/// and KL their log-mean-exp, which at that scale is min θ (ascending) or max θ (descending) in every entry —
/// [−1e30, 1.5e30, −1e30, 1e30] sorts to [−1e30 × 4] under KL, whose invariant is the LSE, not the sum.</para>
/// </remarks>
internal sealed class SoftSort : PermutahedronProjection
{
    /// <summary>Creates the operator for rows of <paramref name="dimension"/> values.</summary>
    /// <param name="dimension">Length n of a row.</param>
    /// <param name="epsilon">Regularization strength ε ≥ 0 (0: exact sort).</param>
    /// <param name="regularization">L2 (default) or KL.</param>
    /// <param name="direction">Ascending (default) or descending.</param>
    public SoftSort(int dimension, double epsilon = 1.0, SoftRegularization regularization = SoftRegularization.L2,
        SortDirection direction = SortDirection.Ascending)
        : base(dimension, epsilon, regularization, direction)
    {
    }

    private protected override void ComputeRow(Workspace w, RowMode mode)
    {
        int n = Dimension;
        double sign = Direction == SortDirection.Ascending ? -1 : 1;
        SortScaled(w, sign);
        Span<double> s = w.Sorted, z = w.Values;
        int[] order = w.Order;
        double[] g = w.Direction;
        bool hard = Epsilon == 0;
        if (!hard && ScaledOverflows(w, n))
        {
            // n/ε or θ/ε leaves double precision: the exact sort is the answer when every gap of θ is below 1/ε (times
            // the spread the PAV can absorb), checked with products.
            double range = s[0] - s[n - 1];
            hard = range * Epsilon * (Math.Log(n) + 1) < 1 ? true : throw TooSmall();
        }
        if (hard)
        {
            // Limit ε → 0⁺: the exact sort, whose Jacobian is the sorting permutation.
            for (int k = 0; k < n; k++) w.Output[k] = sign * s[k];
            for (int k = 0; k < n && mode != RowMode.Forward; k++)
            {
                if (mode == RowMode.Vjp) w.Derivative[order[k]] = g[k];
                else w.Derivative[k] = g[order[k]];
            }
            return;
        }

        for (int k = 0; k < n; k++) z[k] = (n - k) / Epsilon;
        // Per PAV block B the output is (z_k − mean_B z) + mean_B s (L2) or (z_k − LSE(z_B)) + LSE(s_B) (KL): z − v without
        // cancelling |z| ≫ |s| — a singleton block returns its input exactly.
        if (Regularization == SoftRegularization.L2)
        {
            for (int k = 0; k < n; k++) w.Output[k] = z[k] - s[k];
            w.Blocks = IsotonicRegression.L2(w.Output, w.Solution, w.Scratch, w.BlockEnds);
        }
        else
        {
            w.Blocks = IsotonicRegression.KL(z, s, w.Solution, w.Scratch, w.BlockEnds);
        }
        for (int b = 0, a = 0; b < w.Blocks; a = w.BlockEnds[b], b++)
        {
            int end = w.BlockEnds[b];
            if (Regularization == SoftRegularization.L2)
            {
                double zBar = IsotonicRegression.Mean(z, a, end), sBar = IsotonicRegression.Mean(s, a, end);
                for (int k = a; k < end; k++) w.Output[k] = sign * ((z[k] - zBar) + sBar);
            }
            else
            {
                (double maxZ, double logSumZ) = IsotonicRegression.LogSumExp(z, a, end);
                (double maxS, double logSumS) = IsotonicRegression.LogSumExp(s, a, end);
                for (int k = a; k < end; k++) w.Output[k] = sign * ((z[k] - maxZ) - logSumZ + logSumS + maxS);
            }
        }
        if (mode == RowMode.Forward)
        {
            return;
        }

        // ∂out_k/∂θ_{σ(j)} is 1/|B| (L2) or softmax(s_B)_j (KL) for k, j in one block B, else 0.
        double[] softmax = w.Scratch;
        for (int b = 0, a = 0; b < w.Blocks; a = w.BlockEnds[b], b++)
        {
            int end = w.BlockEnds[b];
            if (Regularization == SoftRegularization.L2)
            {
                for (int k = a; k < end; k++) softmax[k] = 1.0 / (end - a);
            }
            else
            {
                BlockSoftmax(s, a, end, softmax);
            }
            double sum = 0;
            if (mode == RowMode.Vjp)
            {
                for (int k = a; k < end; k++) sum += g[k];
                for (int j = a; j < end; j++) w.Derivative[order[j]] = softmax[j] * sum;
            }
            else
            {
                for (int j = a; j < end; j++) sum += softmax[j] * g[order[j]];
                for (int k = a; k < end; k++) w.Derivative[k] = sum;
            }
        }
    }
}
