using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Microsoft.ML.Perturbed.Oracles.KeySortingNetwork;

namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// Selects the k largest scores of a row of any length (k ≤ <see cref="MaxK"/>) with AVX-512 sorting-network pieces:
/// an accumulator keeps the R smallest <see cref="SortKeys"/> keys seen so far, sorted (R = 8, 16 or 32, the smallest
/// that holds k). The row streams past sixteen scores at a time; one vector compare against the score of the
/// accumulator's k-th key finds the entries that can still enter, and only their keys go to a candidate buffer. Each
/// time R candidates have gathered, the network sorts them and merges them into the accumulator keeping the smaller
/// half (lane i of the accumulator meets lane R − 1 − i of the run, which leaves a bitonic run of the R smallest; the
/// half-cleaners sort it). On random rows a few dozen entries ever become candidates, so the cost is about one
/// compare per sixteen scores plus a few merges.
/// </summary>
/// <remarks>
/// Exactness: keys are compared whole, so the set is exactly the k smallest keys, the same as any sort of them
/// (larger score first, then lower index). The filter is exact too: entries arrive in increasing index order, so one
/// can precede the accumulator's k-th key only with a strictly larger score (float comparison, in which −0 = +0, as
/// in the keys); between merges the threshold is stale (too low), which only lets more entries through.
/// </remarks>
internal static class KeySelectionNetwork
{
    /// <summary>The largest k selected by the network.</summary>
    public const int MaxK = 32;

    /// <summary>Whether this processor runs the network (AVX-512F).</summary>
    public static bool IsSupported => KeySortingNetwork.IsSupported;

    /// <summary>
    /// Writes 1 into <paramref name="solution"/> (cleared by the caller) at the indices of the <paramref name="k"/> largest
    /// <paramref name="scores"/> (ties to the lower index). Requires <see cref="IsSupported"/> and 1 ≤ k ≤ min(<see cref="MaxK"/>, length).
    /// </summary>
    [SkipLocalsInit]   // every scratch entry is written before it is read
    public static void SelectTop(ReadOnlySpan<float> scores, int k, Span<float> solution)
    {
        int n = scores.Length;
        if (k < 1 || k > MaxK || k > n)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"The selection network selects 1 to min({MaxK}, {n}) entries.");
        }
        int width = k <= 8 ? 8 : k <= 16 ? 16 : 32;
        Span<ulong> accumulator = stackalloc ulong[32];
        Span<ulong> candidates = stackalloc ulong[32 + 16];
        accumulator = accumulator[..width];
        int first = Math.Min(width, n), start = 0;
        for (; start + 16 <= first; start += 16)
        {
            Keys(Vector512.Create(scores.Slice(start, 16)), start, out Vector512<ulong> low, out Vector512<ulong> high);
            low.CopyTo(accumulator[start..]);
            high.CopyTo(accumulator[(start + 8)..]);
        }
        for (; start < first; start++)
        {
            accumulator[start] = SortKeys.Descending(scores[start], start);
        }
        accumulator[first..].Fill(ulong.MaxValue);
        SortRun(accumulator);
        float threshold = Threshold(scores, accumulator, k);
        int count = 0;
        for (; start + 16 <= n; start += 16)
        {
            Vector512<float> x = Vector512.Create(scores.Slice(start, 16));
            Vector512<float> enter = Vector512.GreaterThan(x, Vector512.Create(threshold));
            if (enter == Vector512<float>.Zero)
            {
                continue;
            }
            // The keys of the entries that pass, packed into the candidates in index order (a vector compress per half).
            Keys(x, start, out Vector512<ulong> low, out Vector512<ulong> high);
            Vector512<ulong> lowMask = Avx512F.ConvertToVector512Int64(enter.AsInt32().GetLower()).AsUInt64();
            Vector512<ulong> highMask = Avx512F.ConvertToVector512Int64(enter.AsInt32().GetUpper()).AsUInt64();
            Avx512F.Compress(Vector512<ulong>.Zero, lowMask, low).CopyTo(candidates[count..]);
            count += System.Numerics.BitOperations.PopCount(lowMask.ExtractMostSignificantBits());
            Avx512F.Compress(Vector512<ulong>.Zero, highMask, high).CopyTo(candidates[count..]);
            count += System.Numerics.BitOperations.PopCount(highMask.ExtractMostSignificantBits());
            if (count >= width)
            {
                do
                {
                    Merge(accumulator, candidates[..width]);
                    count -= width;
                    candidates.Slice(width, count).CopyTo(candidates);
                }
                while (count >= width);
                threshold = Threshold(scores, accumulator, k);
            }
        }
        for (; start < n; start++)
        {
            if (scores[start] > threshold)
            {
                candidates[count++] = SortKeys.Descending(scores[start], start);
            }
        }
        while (count > 0)
        {
            int take = Math.Min(count, width);
            candidates[take..width].Fill(ulong.MaxValue);
            Merge(accumulator, candidates[..width]);
            count -= take;
            candidates.Slice(width, count).CopyTo(candidates);
        }
        for (int i = 0; i < k; i++)
        {
            solution[SortKeys.Index(accumulator[i])] = 1f;
        }
    }

    /// <summary>The score of the accumulator's k-th key; +∞ while that key is padding (rows shorter than the accumulator).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Threshold(ReadOnlySpan<float> scores, ReadOnlySpan<ulong> accumulator, int k)
        => accumulator[k - 1] == ulong.MaxValue ? float.PositiveInfinity : scores[SortKeys.Index(accumulator[k - 1])];

    /// <summary>Sorts 8, 16 or 32 keys in place with the network.</summary>
    private static void SortRun(Span<ulong> keys)
    {
        Span<Vector512<ulong>> v = System.Runtime.InteropServices.MemoryMarshal.Cast<ulong, Vector512<ulong>>(keys);
        switch (v.Length)
        {
            case 1:
                v[0] = SortVector(v[0]);
                break;
            case 2:
                Vector512<ulong> a = SortVector(v[0]), b = SortVector(v[1]);
                Merge2(ref a, ref b);
                v[0] = a;
                v[1] = b;
                break;
            case 4:
                Sort4(ref v[0], ref v[1], ref v[2], ref v[3]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(keys), keys.Length, "A run holds 8, 16 or 32 keys.");
        }
    }

    /// <summary>
    /// Sorts <paramref name="run"/> and keeps in <paramref name="accumulator"/> (sorted, same length) the smaller half of
    /// both, sorted: a bitonic merge that computes only its lower half.
    /// </summary>
    private static void Merge(Span<ulong> accumulator, Span<ulong> run)
    {
        SortRun(run);
        Span<Vector512<ulong>> a = System.Runtime.InteropServices.MemoryMarshal.Cast<ulong, Vector512<ulong>>(accumulator);
        ReadOnlySpan<Vector512<ulong>> b = System.Runtime.InteropServices.MemoryMarshal.Cast<ulong, Vector512<ulong>>(run);
        switch (a.Length)
        {
            case 1:
                a[0] = CleanWithinVector(LowerHalf(a[0], b[0]));
                break;
            case 2:
                Vector512<ulong> l0 = LowerHalf(a[0], b[1]), l1 = LowerHalf(a[1], b[0]);
                MinMax(ref l0, ref l1);
                a[0] = CleanWithinVector(l0);
                a[1] = CleanWithinVector(l1);
                break;
            case 4:
                Vector512<ulong> m0 = LowerHalf(a[0], b[3]), m1 = LowerHalf(a[1], b[2]), m2 = LowerHalf(a[2], b[1]), m3 = LowerHalf(a[3], b[0]);
                Clean4(ref m0, ref m1, ref m2, ref m3);
                a[0] = m0;
                a[1] = m1;
                a[2] = m2;
                a[3] = m3;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(accumulator), accumulator.Length, "The accumulator holds 8, 16 or 32 keys.");
        }
    }

    /// <summary>The smaller half of two sorted vectors, as a bitonic run: lane i of a against lane 7 − i of b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> LowerHalf(Vector512<ulong> a, Vector512<ulong> b)
        => Vector512.Min(a, System.Runtime.Intrinsics.X86.Avx512F.PermuteVar8x64(b, Vector512.Create(7UL, 6, 5, 4, 3, 2, 1, 0)));
}
