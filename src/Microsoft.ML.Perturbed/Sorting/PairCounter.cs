using System.Numerics;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Counts the pairs of two score vectors in O(n log n) (Knight's method): sort the positions by (x, y), count the pairs
/// tied in x and in both, then merge-sort the positions by y, counting the strict inversions (the discordant pairs) and
/// the pairs tied in y. One instance per thread (pooled); its buffers grow to the largest n seen and are reused.
/// </summary>
internal sealed class PairCounter
{
    private int[] _order = [], _scratch = [];
    private double[] _x = [], _y = [];

    /// <summary>Concordant minus discordant pairs, discordant pairs and pairs tied in x or in y.</summary>
    public readonly record struct Counts(long Score, long Discordant, long Tied);

    /// <summary>Counts the pairs of <paramref name="x"/> and <paramref name="y"/> (same length, finite: checked by the caller).</summary>
    public unsafe Counts Count<T>(T* x, T* y, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Ensure(n);
        for (int i = 0; i < n; i++)
        {
            _x[i] = double.CreateTruncating(x[i]);
            _y[i] = double.CreateTruncating(y[i]);
            _order[i] = i;
        }
        SortCountingInversions(n, _x, _y);
        long tiedX = 0, tiedBoth = 0;
        for (int start = 0; start < n;)
        {
            int end = start + 1, bothStart = start;
            while (end < n && _x[_order[end]] == _x[_order[start]])
            {
                if (_y[_order[end]] != _y[_order[end - 1]])
                {
                    tiedBoth += Pairs(end - bothStart);
                    bothStart = end;
                }
                end++;
            }
            tiedBoth += Pairs(end - bothStart);
            tiedX += Pairs(end - start);
            start = end;
        }
        long discordant = SortCountingInversions(n, _y, null);
        long tiedY = 0;
        for (int start = 0; start < n;)
        {
            int end = start + 1;
            while (end < n && _y[_order[end]] == _y[_order[start]]) end++;
            tiedY += Pairs(end - start);
            start = end;
        }
        long untied = Pairs(n) - tiedX - tiedY + tiedBoth;
        return new Counts(untied - 2 * discordant, discordant, tiedX + tiedY - tiedBoth);
    }

    private static long Pairs(long count) => count * (count - 1) / 2;

    private void Ensure(int n)
    {
        if (_order.Length >= n) return;
        _order = new int[n];
        _scratch = new int[n];
        _x = new double[n];
        _y = new double[n];
    }

    /// <summary>
    /// Stable bottom-up merge sort of <see cref="_order"/> by (primary, secondary); returns the number of pairs that were
    /// strictly out of order (a later position with a strictly smaller key).
    /// </summary>
    private long SortCountingInversions(int n, double[] primary, double[]? secondary)
    {
        long inversions = 0;
        int[] source = _order, target = _scratch;
        for (int width = 1; width < n; width *= 2)
        {
            for (int left = 0; left < n; left += 2 * width)
            {
                int mid = Math.Min(left + width, n), right = Math.Min(left + 2 * width, n);
                int i = left, j = mid, k = left;
                while (i < mid && j < right)
                {
                    if (Less(source[j], source[i], primary, secondary))
                    {
                        inversions += mid - i;
                        target[k++] = source[j++];
                    }
                    else
                    {
                        target[k++] = source[i++];
                    }
                }
                while (i < mid) target[k++] = source[i++];
                while (j < right) target[k++] = source[j++];
            }
            (source, target) = (target, source);
        }
        if (!ReferenceEquals(source, _order))
        {
            Array.Copy(source, _order, n);
        }
        return inversions;
    }

    private static bool Less(int a, int b, double[] primary, double[]? secondary)
        => primary[a] < primary[b] || (secondary != null && primary[a] == primary[b] && secondary[a] < secondary[b]);
}
