using System.Runtime.Intrinsics;
using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>The oracle of <see cref="Oracle.TopK"/>, documented there.</summary>
internal sealed class TopKOracle : Oracle
{
    /// <summary>Creates the oracle selecting <paramref name="k"/> of <paramref name="dimension"/> entries.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is outside [1, <paramref name="dimension"/>].</exception>
    public TopKOracle(int dimension, int k) : base(dimension, dimension)
    {
        if (k < 1 || k > dimension)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"'k' must be in [1, {dimension}] (the dimension), got {k}.");
        }
        K = k;
    }

    /// <summary>Number of entries selected.</summary>
    public int K { get; }

    /// <inheritdoc/>
    public override string Name => $"TopK(k={K}, d={Dimension})";

    /// <inheritdoc/>
    public override LinearLoss LinearTaskLoss => LinearLosses.ZeroOneSquared;

    /// <inheritdoc/>
    internal override DeviceKernel? DeviceKernel => new DeviceKernel(DeviceKernelKind.TopK, K);

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> theta, Span<float> solution)
    {
        solution.Clear();
        if (K == 1)
        {
            solution[ArgmaxOracle.IndexOfMax(theta)] = 1f;
            return;
        }
        if (K <= KeySelectionNetwork.MaxK && KeySelectionNetwork.IsSupported && theta.Length > 64)
        {
            KeySelectionNetwork.SelectTop(theta, K, solution);
            return;
        }
        if (theta.Length <= KeySortingNetwork.MaxLength && KeySortingNetwork.IsSupported)
        {
            // Rows of at most 64 entries, and larger k on rows of at most 256: the whole sorting network costs less than
            // the selection network's merges, a heap or quickselect (bench 'topk').
            ReadOnlySpan<ulong> sorted = SortKeys.Sorted(theta);
            for (int i = 0; i < K; i++)
            {
                solution[SortKeys.Index(sorted[i])] = 1f;
            }
            return;
        }
        if (K <= 64 && 8 * K <= theta.Length)
        {
            SelectWithHeap(theta, K, solution);
            return;
        }
        Span<ulong> keys = SortKeys.Scratch(theta.Length);
        SortKeys.Fill(theta, keys);
        SortKeys.SelectSmallest(keys, K);
        for (int i = 0; i < K; i++)
        {
            solution[SortKeys.Index(keys[i])] = 1f;
        }
    }

    /// <summary>
    /// Keeps the <paramref name="k"/> best entries seen so far in a heap whose root is the worst of them (smallest score,
    /// then largest index), and writes 1 at their indices into <paramref name="solution"/> (cleared by the caller). Scanning
    /// indices in increasing order, a later entry beats the root only with a strictly larger score, so eight entries at a
    /// time are skipped with one vector compare when none beats it. The path for processors without AVX-512.
    /// </summary>
    internal static void SelectWithHeap(ReadOnlySpan<float> theta, int k, Span<float> solution)
    {
        Span<ulong> heap = stackalloc ulong[k];   // SortKeys: a larger key is a worse entry; max-heap on keys
        for (int i = 0; i < k; i++)
        {
            heap[i] = SortKeys.Descending(theta[i], i);
            SiftUp(heap, i);
        }
        float worst = theta[SortKeys.Index(heap[0])];
        int n = theta.Length;
        for (int start = k; start < n; start += 8)
        {
            int end = Math.Min(start + 8, n);
            if (end - start == 8 && !Vector256.GreaterThanAny(Vector256.Create(theta.Slice(start, 8)), Vector256.Create(worst)))
            {
                continue;
            }
            for (int i = start; i < end; i++)
            {
                if (theta[i] > worst)
                {
                    heap[0] = SortKeys.Descending(theta[i], i);
                    SiftDown(heap);
                    worst = theta[SortKeys.Index(heap[0])];
                }
            }
        }
        foreach (ulong key in heap)
        {
            solution[SortKeys.Index(key)] = 1f;
        }
    }

    private static void SiftUp(Span<ulong> heap, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (heap[parent] >= heap[i]) return;
            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(Span<ulong> heap)
    {
        int i = 0;
        while (true)
        {
            int left = 2 * i + 1, largest = i;
            if (left < heap.Length && heap[left] > heap[largest]) largest = left;
            if (left + 1 < heap.Length && heap[left + 1] > heap[largest]) largest = left + 1;
            if (largest == i) return;
            (heap[largest], heap[i]) = (heap[i], heap[largest]);
            i = largest;
        }
    }
}
