using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// Sorts up to <see cref="MaxLength"/> 64-bit keys ascending with an AVX-512 bitonic sorting network: the keys, padded
/// with <see cref="ulong.MaxValue"/> to a power of two P ≥ 8, sit in P/8 vectors of eight lanes. A sorting network makes
/// no data-dependent branches, so short rows cost ≈ (log₂P)²/2 vector min/max steps instead of a radix sort's four
/// passes over 256-entry histograms. Keys are compared whole, so the result is exactly that of any other sort of the
/// same distinct keys (<see cref="SortKeys"/>' tie rule lives in the keys, not in the sort).
/// </summary>
/// <remarks>
/// The network is the bitonic sort in its all-ascending form: the merge of two sorted runs of length k/2 starts by
/// comparing element i with element k − 1 − i (a "flip", which reverses lanes across vectors), then runs half-cleaners
/// at distances k/4, …, 1. Distances ≥ 8 compare whole vectors; distances 4, 2, 1 permute lanes within a vector.
/// The padding keys are never smaller than a real key (a real key's high word is at most 0xFF7FFFFF, see
/// <see cref="SortKeys.Descending"/>), so the first n sorted keys are the input's.
/// </remarks>
internal static class KeySortingNetwork
{
    /// <summary>The longest row sorted by the network (32 vectors).</summary>
    public const int MaxLength = 256;

    /// <summary>Whether this processor runs the network (AVX-512F); otherwise callers use the radix sort.</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    [ThreadStatic] private static ulong[]? t_padded;

    /// <summary>Sorts <paramref name="keys"/> (length ≤ <see cref="MaxLength"/>) ascending. Requires <see cref="IsSupported"/>.</summary>
    public static void Sort(Span<ulong> keys)
    {
        int n = keys.Length;
        if (n > MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(keys), n, $"The sorting network sorts at most {MaxLength} keys.");
        }
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("The key sorting network needs AVX-512F.");
        }
        if (n < 2)
        {
            return;
        }
        int padded = Math.Max(8, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)n));
        ulong[] buffer = t_padded ??= GC.AllocateUninitializedArray<ulong>(MaxLength);
        Span<ulong> p = buffer.AsSpan(0, padded);
        keys.CopyTo(p);
        p[n..].Fill(ulong.MaxValue);
        SortPadded(MemoryMarshal.Cast<ulong, Vector512<ulong>>(p));
        p[..n].CopyTo(keys);
    }

    /// <summary>
    /// The keys <see cref="SortKeys.Descending"/> of <paramref name="scores"/> (negated first when <paramref name="negate"/>),
    /// sorted ascending, in thread-local scratch valid until the thread's next call: filled sixteen at a time straight into
    /// the padded vectors. Length ≤ <see cref="MaxLength"/>; requires <see cref="IsSupported"/>.
    /// </summary>
    public static ReadOnlySpan<ulong> SortScores(ReadOnlySpan<float> scores, bool negate)
    {
        int n = scores.Length;
        if (n > MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(scores), n, $"The sorting network sorts at most {MaxLength} keys.");
        }
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("The key sorting network needs AVX-512F.");
        }
        int padded = Math.Max(8, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(n, 1)));
        ulong[] buffer = t_padded ??= GC.AllocateUninitializedArray<ulong>(MaxLength);
        Span<ulong> p = buffer.AsSpan(0, padded);
        int i = 0;
        var sign = Vector512.Create(negate ? 0x8000_0000u : 0u);
        for (; i + 16 <= n; i += 16)
        {
            Keys((Vector512.Create(scores.Slice(i, 16)).AsUInt32() ^ sign).AsSingle(), i, out Vector512<ulong> k0, out Vector512<ulong> k1);
            k0.CopyTo(p.Slice(i, 8));
            k1.CopyTo(p.Slice(i + 8, 8));
        }
        for (; i < n; i++)
        {
            p[i] = SortKeys.Descending(negate ? -scores[i] : scores[i], i);
        }
        p[n..].Fill(ulong.MaxValue);
        if (n > 1)
        {
            SortPadded(MemoryMarshal.Cast<ulong, Vector512<ulong>>(p));
        }
        return p[..n];
    }

    /// <summary>
    /// The keys <see cref="SortKeys.Descending"/> of sixteen scores at indices <paramref name="start"/> … start + 15: lanes 0–7
    /// in <paramref name="low"/>, 8–15 in <paramref name="high"/>. The same bits as the scalar map.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Keys(Vector512<float> scores, int start, out Vector512<ulong> low, out Vector512<ulong> high)
    {
        // As SortKeys.Descending: + 0 folds −0 into +0, then the order-preserving map of the bits, complemented.
        Vector512<uint> bits = (scores + Vector512<float>.Zero).AsUInt32();
        Vector512<uint> negative = (bits.AsInt32() >> 31).AsUInt32();
        Vector512<uint> word = ~(bits ^ (negative | Vector512.Create(0x8000_0000u)));
        Vector512<ulong> index = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7) + Vector512.Create((ulong)start);
        low = (Avx512F.ConvertToVector512UInt64(word.GetLower()) << 32) | index;
        high = (Avx512F.ConvertToVector512UInt64(word.GetUpper()) << 32) | (index + Vector512.Create(8UL));
    }

    private static void SortPadded(Span<Vector512<ulong>> v)
    {
        int count = v.Length;
        ref Vector512<ulong> v0 = ref MemoryMarshal.GetReference(v);
        if (count == 1)
        {
            v0 = SortVector(v0);
            return;
        }
        if (count == 2)
        {
            v0 = SortVector(v0);
            Unsafe.Add(ref v0, 1) = SortVector(Unsafe.Add(ref v0, 1));
            Merge2(ref v0, ref Unsafe.Add(ref v0, 1));
            return;
        }
        // Groups of four vectors (32 keys) are sorted in registers; longer merges run their flip and the half-cleaners at
        // distances of ≥ 4 vectors in memory and finish each group of four in registers.
        for (int q = 0; q < count; q += 4)
        {
            Sort4(ref Unsafe.Add(ref v0, q), ref Unsafe.Add(ref v0, q + 1), ref Unsafe.Add(ref v0, q + 2), ref Unsafe.Add(ref v0, q + 3));
        }
        for (int k = 8; k <= count; k <<= 1)
        {
            for (int block = 0; block < count; block += k)
            {
                for (int q = 0; q < k / 2; q++)
                {
                    Flip(ref Unsafe.Add(ref v0, block + q), ref Unsafe.Add(ref v0, block + k - 1 - q));
                }
            }
            for (int j = k >> 2; j >= 4; j >>= 1)
            {
                for (int q = 0; q < count; q++)
                {
                    if ((q & j) != 0) continue;
                    MinMax(ref Unsafe.Add(ref v0, q), ref Unsafe.Add(ref v0, q + j));
                }
            }
            for (int q = 0; q < count; q += 4)
            {
                Clean4(ref Unsafe.Add(ref v0, q), ref Unsafe.Add(ref v0, q + 1), ref Unsafe.Add(ref v0, q + 2), ref Unsafe.Add(ref v0, q + 3));
            }
        }
    }

    /// <summary>Sorts the 32 keys of four vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Sort4(ref Vector512<ulong> a, ref Vector512<ulong> b, ref Vector512<ulong> c, ref Vector512<ulong> d)
    {
        Vector512<ulong> x0 = SortVector(a), x1 = SortVector(b), x2 = SortVector(c), x3 = SortVector(d);
        Merge2(ref x0, ref x1);
        Merge2(ref x2, ref x3);
        Flip(ref x0, ref x3);
        Flip(ref x1, ref x2);
        FinishFour(x0, x1, x2, x3, out a, out b, out c, out d);
    }

    /// <summary>Half-cleaners at distances of 2 and 1 vectors, then within each vector: four vectors holding a bitonic run become sorted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Clean4(ref Vector512<ulong> a, ref Vector512<ulong> b, ref Vector512<ulong> c, ref Vector512<ulong> d)
    {
        Vector512<ulong> x0 = a, x1 = b, x2 = c, x3 = d;
        MinMax(ref x0, ref x2);
        MinMax(ref x1, ref x3);
        FinishFour(x0, x1, x2, x3, out a, out b, out c, out d);
    }

    /// <summary>The last layers of a merge over four vectors: the half-cleaner at a distance of one vector, then within each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FinishFour(Vector512<ulong> x0, Vector512<ulong> x1, Vector512<ulong> x2, Vector512<ulong> x3,
        out Vector512<ulong> a, out Vector512<ulong> b, out Vector512<ulong> c, out Vector512<ulong> d)
    {
        MinMax(ref x0, ref x1);
        MinMax(ref x2, ref x3);
        a = CleanWithinVector(x0);
        b = CleanWithinVector(x1);
        c = CleanWithinVector(x2);
        d = CleanWithinVector(x3);
    }

    /// <summary>Merges two sorted vectors into 16 sorted keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Merge2(ref Vector512<ulong> a, ref Vector512<ulong> b)
    {
        Flip(ref a, ref b);
        a = CleanWithinVector(a);
        b = CleanWithinVector(b);
    }

    /// <summary>The first layer of a merge: lane i of <paramref name="a"/> meets lane 7 − i of <paramref name="b"/>; the minima stay in a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Flip(ref Vector512<ulong> a, ref Vector512<ulong> b)
    {
        var reverse = Vector512.Create(7UL, 6, 5, 4, 3, 2, 1, 0);
        Vector512<ulong> x = a, rb = Avx512F.PermuteVar8x64(b, reverse);
        a = Vector512.Min(x, rb);
        b = Avx512F.PermuteVar8x64(Vector512.Max(x, rb), reverse);
    }

    /// <summary>A half-cleaner layer between two vectors: minima to <paramref name="a"/>, maxima to <paramref name="b"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void MinMax(ref Vector512<ulong> a, ref Vector512<ulong> b)
    {
        Vector512<ulong> x = a, y = b;
        a = Vector512.Min(x, y);
        b = Vector512.Max(x, y);
    }

    /// <summary>Sorts the eight lanes of one vector (flips at 2, 4, 8 with their half-cleaners).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<ulong> SortVector(Vector512<ulong> x)
    {
        x = Step(x, Vector512.Create(1UL, 0, 3, 2, 5, 4, 7, 6), Vector512.Create(0, ~0UL, 0, ~0UL, 0, ~0UL, 0, ~0UL));
        x = Step(x, Vector512.Create(3UL, 2, 1, 0, 7, 6, 5, 4), Vector512.Create(0, 0, ~0UL, ~0UL, 0, 0, ~0UL, ~0UL));
        x = Step(x, Vector512.Create(1UL, 0, 3, 2, 5, 4, 7, 6), Vector512.Create(0, ~0UL, 0, ~0UL, 0, ~0UL, 0, ~0UL));
        x = Step(x, Vector512.Create(7UL, 6, 5, 4, 3, 2, 1, 0), Vector512.Create(0, 0, 0, 0, ~0UL, ~0UL, ~0UL, ~0UL));
        x = Step(x, Vector512.Create(2UL, 3, 0, 1, 6, 7, 4, 5), Vector512.Create(0, 0, ~0UL, ~0UL, 0, 0, ~0UL, ~0UL));
        return Step(x, Vector512.Create(1UL, 0, 3, 2, 5, 4, 7, 6), Vector512.Create(0, ~0UL, 0, ~0UL, 0, ~0UL, 0, ~0UL));
    }

    /// <summary>Half-cleaners at distances 4, 2, 1 inside one vector (a bitonic run of 8 becomes sorted).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<ulong> CleanWithinVector(Vector512<ulong> x)
    {
        x = Step(x, Vector512.Create(4UL, 5, 6, 7, 0, 1, 2, 3), Vector512.Create(0, 0, 0, 0, ~0UL, ~0UL, ~0UL, ~0UL));
        x = Step(x, Vector512.Create(2UL, 3, 0, 1, 6, 7, 4, 5), Vector512.Create(0, 0, ~0UL, ~0UL, 0, 0, ~0UL, ~0UL));
        return Step(x, Vector512.Create(1UL, 0, 3, 2, 5, 4, 7, 6), Vector512.Create(0, ~0UL, 0, ~0UL, 0, ~0UL, 0, ~0UL));
    }

    /// <summary>One comparator layer within a vector: lane i meets lane partner[i] and keeps the max where <paramref name="upper"/> is set, the min elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Step(Vector512<ulong> x, Vector512<ulong> partner, Vector512<ulong> upper)
    {
        Vector512<ulong> y = Avx512F.PermuteVar8x64(x, partner);
        return Vector512.ConditionalSelect(upper, Vector512.Max(x, y), Vector512.Min(x, y));
    }
}
