using System.Numerics;
using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Shared machinery of <see cref="SoftRank"/> and <see cref="SoftSort"/>: soft operators defined by a regularized
/// projection onto the permutahedron (Blondel, Teboul, Berthet, Djolonga 2020, "Fast Differentiable Sorting and
/// Ranking"). Each row costs one O(n log n) sort plus an O(n) PAV isotonic regression; the JVP and VJP are exact
/// (the solution is piecewise, its Jacobian block-structured by the PAV blocks) and cost O(n) more.
/// </summary>
/// <remarks>
/// Batches are row-major <c>[batch × Dimension]</c> spans in single or double precision (computation is always in
/// double). Rows run in parallel, results do not depend on the thread count, and steady-state calls allocate nothing.
/// <para><b>ε = 0</b> returns the limit ε → 0⁺: exact sorts, and exact ranks in which tied values share their average
/// rank. Its derivative is the limit one: a permutation for sorts, zero for ranks.</para>
/// <para><b>Ties</b> need no rule: tied inputs always land in one PAV block, so they get equal soft ranks.</para>
/// </remarks>
public abstract class PermutahedronProjection
{
    private readonly ObjectPool<Workspace> _workspaces;

    private protected PermutahedronProjection(int dimension, double epsilon, SoftRegularization regularization, SortDirection direction)
    {
        Guard.Positive(dimension, nameof(dimension));
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
        Dimension = dimension;
        Epsilon = epsilon;
        Regularization = regularization;
        Direction = direction;
        _workspaces = new ObjectPool<Workspace>(() => new Workspace(dimension));
    }

    /// <summary>Length n of a row.</summary>
    public int Dimension { get; }

    /// <summary>Regularization strength ε ≥ 0: 0 gives the hard operator, larger values smooth more.</summary>
    public double Epsilon { get; }

    /// <summary>L2 (quadratic) or KL (entropic) regularization.</summary>
    public SoftRegularization Regularization { get; }

    /// <summary>Ascending or descending.</summary>
    public SortDirection Direction { get; }

    /// <summary>Most threads a call may use; −1 (default) uses every core.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Computes the soft operator of every row.</summary>
    /// <param name="values">Inputs θ, <c>[batch × n]</c>, finite.</param>
    /// <param name="result">Destination, <c>[batch × n]</c>.</param>
    public void Forward(ReadOnlySpan<float> values, Span<float> result) => Run(values, result, default, default, Mode.Forward);

    /// <inheritdoc cref="Forward(ReadOnlySpan{float}, Span{float})"/>
    public void Forward(ReadOnlySpan<double> values, Span<double> result) => Run(values, result, default, default, Mode.Forward);

    /// <summary>Computes the operator and the vector-Jacobian product Jᵀg of every row (exact).</summary>
    /// <param name="values">Inputs θ, <c>[batch × n]</c>.</param>
    /// <param name="cotangent">Upstream gradient g, <c>[batch × n]</c>.</param>
    /// <param name="result">Destination for the operator's output.</param>
    /// <param name="vjp">Destination for Jᵀg.</param>
    public void ForwardVjp(ReadOnlySpan<float> values, ReadOnlySpan<float> cotangent, Span<float> result, Span<float> vjp)
        => Run(values, result, cotangent, vjp, Mode.Vjp);

    /// <inheritdoc cref="ForwardVjp(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float})"/>
    public void ForwardVjp(ReadOnlySpan<double> values, ReadOnlySpan<double> cotangent, Span<double> result, Span<double> vjp)
        => Run(values, result, cotangent, vjp, Mode.Vjp);

    /// <summary>Computes the operator and the Jacobian-vector product J t of every row (exact).</summary>
    /// <param name="values">Inputs θ, <c>[batch × n]</c>.</param>
    /// <param name="tangent">Direction t, <c>[batch × n]</c>.</param>
    /// <param name="result">Destination for the operator's output.</param>
    /// <param name="jvp">Destination for J t.</param>
    public void ForwardJvp(ReadOnlySpan<float> values, ReadOnlySpan<float> tangent, Span<float> result, Span<float> jvp)
        => Run(values, result, tangent, jvp, Mode.Jvp);

    /// <inheritdoc cref="ForwardJvp(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float})"/>
    public void ForwardJvp(ReadOnlySpan<double> values, ReadOnlySpan<double> tangent, Span<double> result, Span<double> jvp)
        => Run(values, result, tangent, jvp, Mode.Jvp);

    /// <summary>Row kernel: fills <c>w.Output</c> from <c>w.Input</c> and, for derivatives, <c>w.Derivative</c> from <c>w.Direction</c>.</summary>
    private protected abstract void ComputeRow(Workspace w, Mode mode);

    private protected enum Mode { Forward, Vjp, Jvp }

    private unsafe void Run<T>(ReadOnlySpan<T> values, Span<T> result, ReadOnlySpan<T> direction, Span<T> derivative, Mode mode)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = Dimension;
        int batch = Guard.RowCount(values.Length, n, nameof(values));
        Guard.Rows(result.Length, batch, n, nameof(result));
        FiniteRows(values, n, nameof(values));
        if (mode != Mode.Forward)
        {
            string directionName = mode == Mode.Vjp ? "cotangent" : "tangent";
            Guard.Rows(direction.Length, batch, n, directionName);
            Guard.Rows(derivative.Length, batch, n, mode == Mode.Vjp ? "vjp" : "jvp");
            FiniteRows(direction, n, directionName);
        }
        fixed (T* pValues = values)
        fixed (T* pResult = result)
        fixed (T* pDirection = direction)
        fixed (T* pDerivative = derivative)
        {
            RowJob<T> job = RowJob<T>.Rent();
            job.Set(this, pValues, pResult, pDirection, pDerivative, mode);
            try
            {
                RowParallel.For(batch, MaxDegreeOfParallelism, job);
            }
            finally
            {
                job.Return();
            }
        }
    }

    private static void FiniteRows<T>(ReadOnlySpan<T> values, int n, string paramName) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i]))
            {
                throw new ArgumentException($"Expected finite values, found {values[i]} at row {i / n}, column {i % n}.", paramName);
            }
        }
    }

    private unsafe void ProcessRows<T>(int start, int end, T* values, T* result, T* direction, T* derivative, Mode mode)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = Dimension;
        Workspace w = _workspaces.Rent();
        try
        {
            for (int row = start; row < end; row++)
            {
                long o = (long)row * n;
                for (int i = 0; i < n; i++) w.Input[i] = double.CreateTruncating(values[o + i]);
                if (mode != Mode.Forward)
                {
                    for (int i = 0; i < n; i++) w.Direction[i] = double.CreateTruncating(direction[o + i]);
                }
                ComputeRow(w, mode);
                for (int i = 0; i < n; i++) result[o + i] = T.CreateTruncating(w.Output[i]);
                if (mode != Mode.Forward)
                {
                    for (int i = 0; i < n; i++) derivative[o + i] = T.CreateTruncating(w.Derivative[i]);
                }
            }
        }
        finally
        {
            _workspaces.Return(w);
        }
    }

    /// <summary>
    /// Sorts <c>w.Sorted</c> := <paramref name="scale"/>·θ in decreasing order (ties: lower index first) and records the
    /// permutation in <c>w.Order</c> (sorted position k holds input index Order[k]). Throws when the scaled values overflow.
    /// </summary>
    private protected void SortScaled(Workspace w, double scale)
    {
        int n = Dimension;
        Span<Entry> entries = w.Entries;
        for (int i = 0; i < n; i++)
        {
            double x = scale * w.Input[i];
            if (!double.IsFinite(x))
            {
                throw new ArgumentOutOfRangeException("epsilon", Epsilon,
                    $"The regularization strength ε = {Epsilon} is too small for inputs of magnitude {Math.Abs(w.Input[i])}: θ/ε overflows. Use a larger ε, or ε = 0 for the hard operator.");
            }
            entries[i] = new Entry(x, i);
        }
        entries.Sort(default(EntryOrder));
        for (int k = 0; k < n; k++)
        {
            w.Sorted[k] = entries[k].Value;
            w.Order[k] = entries[k].Index;
        }
    }

    /// <summary>Per-thread buffers for one row.</summary>
    private protected sealed class Workspace(int n)
    {
        public readonly double[] Input = new double[n], Output = new double[n], Direction = new double[n], Derivative = new double[n];
        public readonly double[] Sorted = new double[n], Solution = new double[n], Values = new double[n], Scratch = new double[2 * n];
        public readonly int[] Order = new int[n], BlockEnds = new int[n];
        public readonly Entry[] Entries = new Entry[n];
        public int Blocks;
    }

    private protected readonly record struct Entry(double Value, int Index);

    private readonly struct EntryOrder : IComparer<Entry>
    {
        public int Compare(Entry a, Entry b) => a.Value > b.Value ? -1 : a.Value < b.Value ? 1 : a.Index.CompareTo(b.Index);
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

    private sealed unsafe class RowJob<T> : IRowJob where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic] private static RowJob<T>? t_cached;
        private PermutahedronProjection? _owner;
        private T* _values, _result, _direction, _derivative;
        private Mode _mode;

        public static RowJob<T> Rent()
        {
            RowJob<T> job = t_cached ?? new RowJob<T>();
            t_cached = null;
            return job;
        }

        public void Set(PermutahedronProjection owner, T* values, T* result, T* direction, T* derivative, Mode mode)
        {
            _owner = owner;
            _values = values;
            _result = result;
            _direction = direction;
            _derivative = derivative;
            _mode = mode;
        }

        public void Return()
        {
            _owner = null;
            t_cached = this;
        }

        public void Execute(int start, int end) => _owner!.ProcessRows(start, end, _values, _result, _direction, _derivative, _mode);
    }
}
