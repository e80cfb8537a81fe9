using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// The ascending order of each row and its runs of tied values: what hard quantile normalization needs to put target
/// values at a row's ranks, Ψ_f(x) = Π_σᵀ B f, and what its adjoint in f needs, B Π_σ w (σ the row's ascending order, B
/// the averaging over each run of ties: a run of equal values shares the mean of its targets, as
/// <see cref="SoftQuantileNormalization"/> does at ε = 0). Rank k of row r holds slot <c>order[r, k]</c>; ties are
/// ordered by slot, which only fixes the order in which a run is summed.
/// </summary>
internal sealed class RankRuns
{
    private readonly int[] _order;    // [rows × n]: the slot at ascending rank k
    private readonly int[] _runEnd;   // [rows × n]: the end (exclusive) of the run of ties holding rank k

    private RankRuns(int rows, int length, int[] order, int[] runEnd)
    {
        Rows = rows;
        Length = length;
        _order = order;
        _runEnd = runEnd;
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Row length n.</summary>
    public int Length { get; }

    /// <summary>The orders and runs of <paramref name="rows"/> (<c>[rows × n]</c>, finite), computed in parallel over rows.</summary>
    public static unsafe RankRuns From(ReadOnlySpan<float> rows, int n, int maxDegreeOfParallelism)
    {
        Guard.Positive(n, nameof(n));
        int count = Guard.RowCount(rows.Length, n, nameof(rows));
        Guard.Finite(rows, n, nameof(rows));
        var order = new int[(long)count * n];
        var runEnd = new int[(long)count * n];
        fixed (float* pRows = rows)
        {
            RowBatch.Run(count, maxDegreeOfParallelism, new Batch(pRows, n, order, runEnd),
                static (in Batch b, int start, int end) => SortRows(in b, start, end), minRowsPerChunk: 16);
        }
        return new RankRuns(count, n, order, runEnd);
    }

    /// <summary>Ψ_f(x) of row <paramref name="row"/>: slot order[k] gets the mean of f over the run of ties holding rank k.</summary>
    public void Normalize(int row, ReadOnlySpan<double> f, Span<double> psi)
    {
        ReadOnlySpan<int> order = _order.AsSpan(row * Length, Length), runEnd = _runEnd.AsSpan(row * Length, Length);
        for (int k = 0; k < Length;)
        {
            int end = runEnd[k];
            if (end == k + 1)
            {
                psi[order[k]] = f[k];
                k = end;
                continue;
            }
            double mean = 0;
            for (int j = k; j < end; j++) mean += f[j];
            mean /= end - k;
            for (; k < end; k++) psi[order[k]] = mean;
        }
    }

    /// <summary>
    /// The adjoint of <see cref="Normalize"/>: adds a·(B Π_σ w) to <paramref name="accumulator"/>, i.e. entry k gets a times
    /// the mean of w over the slots of the run of ties holding rank k (so ⟨w, Ψ_f(x)⟩ = ⟨B Π_σ w, f⟩).
    /// </summary>
    public void AddPooled(int row, ReadOnlySpan<double> w, double a, Span<double> accumulator)
    {
        ReadOnlySpan<int> order = _order.AsSpan(row * Length, Length), runEnd = _runEnd.AsSpan(row * Length, Length);
        for (int k = 0; k < Length;)
        {
            int end = runEnd[k];
            if (end == k + 1)
            {
                accumulator[k] += a * w[order[k]];
                k = end;
                continue;
            }
            double mean = 0;
            for (int j = k; j < end; j++) mean += w[order[j]];
            mean = a * mean / (end - k);
            for (; k < end; k++) accumulator[k] += mean;
        }
    }

    private static unsafe void SortRows(in Batch b, int start, int end)
    {
        int n = b.Length;
        var keys = new ulong[n];
        for (int r = start; r < end; r++)
        {
            float* x = b.Rows + (long)r * n;
            // (value, slot) packed so that an ascending sort of the keys orders by value, then by slot (+0 and −0 equal).
            for (int i = 0; i < n; i++) keys[i] = ((ulong)Ascending(x[i] == 0 ? 0f : x[i]) << 32) | (uint)i;
            Array.Sort(keys);
            Span<int> order = b.Order.AsSpan(r * n, n), runEnd = b.RunEnd.AsSpan(r * n, n);
            for (int k = 0; k < n; k++) order[k] = (int)(uint)keys[k];
            for (int k = 0; k < n;)
            {
                uint value = (uint)(keys[k] >> 32);
                int e = k + 1;
                while (e < n && (uint)(keys[e] >> 32) == value) e++;
                for (; k < e; k++) runEnd[k] = e;
            }
        }
    }

    /// <summary>A float's bits mapped so that unsigned order is numeric order.</summary>
    private static uint Ascending(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    private readonly unsafe struct Batch(float* rows, int length, int[] order, int[] runEnd)
    {
        public readonly float* Rows = rows;
        public readonly int Length = length;
        public readonly int[] Order = order;
        public readonly int[] RunEnd = runEnd;
    }
}
