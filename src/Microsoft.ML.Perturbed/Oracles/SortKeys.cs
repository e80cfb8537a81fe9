using System.Runtime.CompilerServices;

namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// Packs (score, index) into one 64-bit key whose ascending order is "larger score first, then lower index
/// first". Sorting or selecting such keys breaks ties deterministically by index, and sorting plain
/// integers is faster than sorting floats with a companion index array.
/// </summary>
internal static class SortKeys
{
    /// <summary>Key of <paramref name="score"/> at <paramref name="index"/> (score finite; −0 and +0 are equal).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Descending(float score, int index)
    {
        uint bits = BitConverter.SingleToUInt32Bits(score + 0f);   // + 0f turns −0 into +0
        uint ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
        return ((ulong)~ascending << 32) | (uint)index;
    }

    /// <summary>Index stored in a key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Index(ulong key) => (int)(uint)key;

    /// <summary>Fills <paramref name="keys"/> with the keys of <paramref name="scores"/>.</summary>
    public static void Fill(ReadOnlySpan<float> scores, Span<ulong> keys)
    {
        for (int i = 0; i < scores.Length; i++)
        {
            keys[i] = Descending(scores[i], i);
        }
    }

    /// <summary>
    /// The keys of <paramref name="scores"/> (of −scores when <paramref name="negate"/>) sorted ascending, in thread-local
    /// scratch valid until the thread's next call to a <see cref="SortKeys"/> method: the sorting network's fused fill for
    /// short rows where it runs, else <see cref="Fill"/> and <see cref="SortFilled"/>. The same keys in the same order on every path.
    /// </summary>
    public static ReadOnlySpan<ulong> Sorted(ReadOnlySpan<float> scores, bool negate = false)
    {
        if (scores.Length <= KeySortingNetwork.MaxLength && KeySortingNetwork.IsSupported)
        {
            return KeySortingNetwork.SortScores(scores, negate);
        }
        Span<ulong> keys = Scratch(scores.Length);
        for (int i = 0; i < scores.Length; i++)
        {
            keys[i] = Descending(negate ? -scores[i] : scores[i], i);
        }
        SortFilled(keys);
        return keys;
    }

    /// <summary>Thread-local scratch of at least <paramref name="length"/> keys (grown, never shrunk).</summary>
    public static Span<ulong> Scratch(int length)
    {
        ulong[]? buffer = t_scratch;
        if (buffer is null || buffer.Length < length)
        {
            t_scratch = buffer = new ulong[length];
        }
        return buffer.AsSpan(0, length);
    }

    [ThreadStatic] private static ulong[]? t_scratch;
    [ThreadStatic] private static ulong[]? t_radix;

    /// <summary>
    /// Sorts keys built by <see cref="Fill"/> (indices ascending) into ascending order, the algorithm chosen by length:
    /// rows of at most <see cref="KeySortingNetwork.MaxLength"/> keys go through the AVX-512 sorting network where the
    /// processor has it, longer rows (or processors without it) through <see cref="RadixSort"/> (introsort below 64 keys).
    /// Every path sorts the whole 64-bit keys, so all give the same order, and the tie rule is the keys'.
    /// </summary>
    public static void SortFilled(Span<ulong> keys)
    {
        int n = keys.Length;
        if (n <= KeySortingNetwork.MaxLength && KeySortingNetwork.IsSupported)
        {
            KeySortingNetwork.Sort(keys);
            return;
        }
        if (n < 64)
        {
            keys.Sort();
            return;
        }
        RadixSort(keys);
    }

    /// <summary>
    /// A stable LSD radix sort of keys built by <see cref="Fill"/> (indices ascending) on the 32-bit score half, four
    /// 8-bit digits, skipping digits all keys share. Stability keeps the index order among equal scores, so the result
    /// equals a full sort of the 64-bit keys. O(d), versus O(d log d) for introsort.
    /// </summary>
    internal static void RadixSort(Span<ulong> keys)
    {
        int n = keys.Length;
        ulong[]? buffer = t_radix;
        if (buffer is null || buffer.Length < n)
        {
            t_radix = buffer = new ulong[n];
        }
        Span<ulong> other = buffer.AsSpan(0, n);
        Span<int> counts = stackalloc int[4 * 256];
        counts.Clear();
        for (int i = 0; i < n; i++)
        {
            uint high = (uint)(keys[i] >> 32);
            counts[(int)(high & 0xFF)]++;
            counts[256 + (int)((high >> 8) & 0xFF)]++;
            counts[512 + (int)((high >> 16) & 0xFF)]++;
            counts[768 + (int)(high >> 24)]++;
        }
        Span<ulong> source = keys, target = other;
        for (int pass = 0; pass < 4; pass++)
        {
            Span<int> c = counts.Slice(pass * 256, 256);
            int shift = 32 + 8 * pass;
            if (c[(int)((source[0] >> shift) & 0xFF)] == n)
            {
                continue;   // every key has this digit
            }
            int offset = 0;
            for (int b = 0; b < 256; b++)
            {
                int count = c[b];
                c[b] = offset;
                offset += count;
            }
            for (int i = 0; i < n; i++)
            {
                ulong key = source[i];
                target[c[(int)((key >> shift) & 0xFF)]++] = key;
            }
            Span<ulong> swap = source;
            source = target;
            target = swap;
        }
        if (source != keys)
        {
            source.CopyTo(keys);
        }
    }

    /// <summary>
    /// Rearranges <paramref name="keys"/> so that its first <paramref name="k"/> entries are the k smallest
    /// (in any order): quickselect with median-of-three pivots, expected O(n).
    /// </summary>
    public static void SelectSmallest(Span<ulong> keys, int k)
    {
        int lo = 0, hi = keys.Length - 1;
        while (hi > lo)
        {
            int mid = lo + ((hi - lo) >> 1);
            // Median of three moved to keys[mid].
            if (keys[mid] < keys[lo]) (keys[mid], keys[lo]) = (keys[lo], keys[mid]);
            if (keys[hi] < keys[lo]) (keys[hi], keys[lo]) = (keys[lo], keys[hi]);
            if (keys[hi] < keys[mid]) (keys[hi], keys[mid]) = (keys[mid], keys[hi]);
            ulong pivot = keys[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (keys[i] < pivot) i++;
                while (keys[j] > pivot) j--;
                if (i <= j)
                {
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                    i++;
                    j--;
                }
            }
            // Now keys[lo..j] ≤ pivot ≤ keys[i..hi] (keys are distinct, so the pivot sits between).
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else return;
        }
    }
}
