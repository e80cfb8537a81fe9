using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.Perturbed.Random;

/// <summary>
/// A counter-based random stream: the Philox4x32-10 bijection of Salmon et al. (SC 2011, "Parallel random
/// numbers: as easy as 1, 2, 3") applied to an incrementing counter. A stream is fully determined by its
/// 64-bit key and the upper 96 bits of the counter, so each (seed, row, sample) gets its own stream and the
/// values drawn do not depend on which thread draws them or in which order.
/// </summary>
/// <remarks>
/// The counter is four 32-bit words <c>(block, c1, c2, c3)</c>; <c>block</c> counts the 128-bit blocks drawn
/// from this stream (2^32 blocks = 16 GiB per stream), <c>c1..c3</c> identify the stream.
/// </remarks>
internal struct PhiloxStream
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;   // round multipliers
    private const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;   // key schedule (golden ratio, sqrt 3)

    private readonly uint _k0, _k1, _c1, _c2, _c3;
    private uint _block;
    private uint _x0, _x1, _x2, _x3;
    private int _available;

    /// <summary>Creates the stream with key <paramref name="key"/> and stream words <paramref name="c1"/>..<paramref name="c3"/>.</summary>
    public PhiloxStream(ulong key, uint c1, uint c2, uint c3)
    {
        _k0 = (uint)key;
        _k1 = (uint)(key >> 32);
        _c1 = c1;
        _c2 = c2;
        _c3 = c3;
        _block = 0;
        _x0 = _x1 = _x2 = _x3 = 0;
        _available = 0;
    }

    /// <summary>
    /// The stream used for perturbation sample <paramref name="sample"/> of row <paramref name="row"/> in draw
    /// <paramref name="draw"/> under seed <paramref name="seed"/>. The perturbed optimizer uses exactly this
    /// stream, so tests and users can reproduce its noise.
    /// </summary>
    public static PhiloxStream ForSample(int seed, ulong draw, int row, int sample)
    {
        // Key: seed and the high half of the draw; counter words: sample, row, low half of the draw.
        ulong key = (uint)seed | ((draw >> 32) << 32);
        return new PhiloxStream(key, (uint)sample, (uint)row, (uint)draw);
    }

    /// <summary>Applies the ten Philox4x32 rounds to one counter block under one key.</summary>
    public static void Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1,
        out uint r0, out uint r1, out uint r2, out uint r3)
    {
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n1 = (uint)p1;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            uint n3 = (uint)p0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
            k0 += W0;
            k1 += W1;
        }
        r0 = c0; r1 = c1; r2 = c2; r3 = c3;
    }

    /// <summary>Next 32 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint NextUInt32()
    {
        if (_available == 0)
        {
            Refill();
        }
        _available--;
        return _available switch { 3 => _x0, 2 => _x1, 1 => _x2, _ => _x3 };
    }

    /// <summary>Fills <paramref name="destination"/> with random bits, four words per Philox block.</summary>
    public void NextUInt32(Span<uint> destination)
    {
        int i = 0;
        while (i < destination.Length && _available > 0)
        {
            destination[i++] = NextUInt32();
        }
        if (Avx512F.IsSupported)
        {
            i += BlocksAvx512(destination[i..]);
        }
        else if (Avx2.IsSupported)
        {
            i += BlocksAvx2(destination[i..]);
        }
        for (; i + 4 <= destination.Length; i += 4)
        {
            Block(_block++, _c1, _c2, _c3, _k0, _k1, out destination[i], out destination[i + 1], out destination[i + 2], out destination[i + 3]);
        }
        for (; i < destination.Length; i++)
        {
            destination[i] = NextUInt32();
        }
    }

    /// <summary>Uniform in the open interval (0, 1) with 23 random bits: never 0 or 1, so logarithms stay finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float NextSingle() => ToOpenUnitSingle(NextUInt32());

    /// <summary>Uniform in the open interval (0, 1) with 53 random bits.</summary>
    public double NextDouble()
    {
        ulong bits = ((ulong)NextUInt32() << 21) ^ (NextUInt32() >> 11);
        return ((bits & ((1UL << 53) - 1)) + 0.5) * (1.0 / (1UL << 53));
    }

    /// <summary>
    /// Maps 32 random bits to the open interval (0, 1) using the top 23 bits: (2b + 1)·2⁻²⁴, exactly representable
    /// in single precision, so the smallest value is 2⁻²⁴ and the largest 1 − 2⁻²⁴ (with 24 bits the top value would round to 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToOpenUnitSingle(uint bits) => ((bits >> 9) * 2 + 1) * (1f / (1 << 24));

    /// <summary>
    /// Four blocks at once, one per 64-bit lane (values below 2³² so that mul_epu32 gives the full product), written
    /// in the same order as the scalar path. Returns the number of words written (a multiple of 16).
    /// </summary>
    private int BlocksAvx2(Span<uint> destination)
    {
        int groups = destination.Length / 16;
        if (groups == 0)
        {
            return 0;
        }
        var mask = Vector256.Create(0xFFFF_FFFFUL);
        var m0 = Vector256.Create((ulong)M0).AsUInt32();
        var m1 = Vector256.Create((ulong)M1).AsUInt32();
        var c1 = Vector256.Create((ulong)_c1);
        var c2 = Vector256.Create((ulong)_c2);
        var c3 = Vector256.Create((ulong)_c3);
        var lanes = Vector256.Create(0UL, 1, 2, 3);
        Span<ulong> tmp = stackalloc ulong[16];
        for (int g = 0; g < groups; g++)
        {
            Vector256<ulong> x0 = (Vector256.Create((ulong)_block) + lanes) & mask, x1 = c1, x2 = c2, x3 = c3;
            uint k0 = _k0, k1 = _k1;
            for (int round = 0; round < 10; round++)
            {
                Vector256<ulong> p0 = Avx2.Multiply(x0.AsUInt32(), m0);
                Vector256<ulong> p1 = Avx2.Multiply(x2.AsUInt32(), m1);
                x0 = (p1 >>> 32) ^ x1 ^ Vector256.Create((ulong)k0);
                x1 = p1 & mask;
                x2 = (p0 >>> 32) ^ x3 ^ Vector256.Create((ulong)k1);
                x3 = p0 & mask;
                k0 += W0;
                k1 += W1;
            }
            _block += 4;
            x0.CopyTo(tmp);
            x1.CopyTo(tmp[4..]);
            x2.CopyTo(tmp[8..]);
            x3.CopyTo(tmp[12..]);
            Span<uint> dst = destination.Slice(g * 16, 16);
            for (int lane = 0; lane < 4; lane++)
            {
                dst[4 * lane] = (uint)tmp[lane];
                dst[4 * lane + 1] = (uint)tmp[4 + lane];
                dst[4 * lane + 2] = (uint)tmp[8 + lane];
                dst[4 * lane + 3] = (uint)tmp[12 + lane];
            }
        }
        return groups * 16;
    }

    /// <summary>
    /// Sixteen blocks at once, block b of the group in lane b of four 32-bit vectors (the high halves of the products come
    /// from two 32×32→64 multiplies, even and odd lanes, recombined by blends), transposed back into the
    /// scalar path's order.
    /// Writes every whole block that fits, the last group partly; returns the number of words written (a multiple of 4).
    /// </summary>
    private int BlocksAvx512(Span<uint> destination)
    {
        int blocks = destination.Length / 4;
        if (blocks == 0)
        {
            return 0;
        }
        var lanes = Vector512.Create(0u, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var c1 = Vector512.Create(_c1);
        var c2 = Vector512.Create(_c2);
        var c3 = Vector512.Create(_c3);
        int written = 0;
        // Two groups of sixteen blocks interleaved: a round's multiplies wait on the previous round, so one group alone
        // leaves the multiplier idle most of the time.
        while (4 * blocks - written >= 128)
        {
            Vector512<uint> x0 = Vector512.Create(_block) + lanes, x1 = c1, x2 = c2, x3 = c3;
            Vector512<uint> y0 = Vector512.Create(_block + 16) + lanes, y1 = c1, y2 = c2, y3 = c3;
            uint k0 = _k0, k1 = _k1;
            for (int round = 0; round < 10; round++)
            {
                Round(ref x0, ref x1, ref x2, ref x3, k0, k1);
                Round(ref y0, ref y1, ref y2, ref y3, k0, k1);
                k0 += W0;
                k1 += W1;
            }
            Store(x0, x1, x2, x3, destination.Slice(written, 64));
            Store(y0, y1, y2, y3, destination.Slice(written + 64, 64));
            _block += 32;
            written += 128;
        }
        Span<uint> partial = stackalloc uint[64];
        while (written < 4 * blocks)
        {
            Vector512<uint> x0 = Vector512.Create(_block) + lanes, x1 = c1, x2 = c2, x3 = c3;
            uint k0 = _k0, k1 = _k1;
            for (int round = 0; round < 10; round++)
            {
                Round(ref x0, ref x1, ref x2, ref x3, k0, k1);
                k0 += W0;
                k1 += W1;
            }
            int left = 4 * blocks - written;
            if (left >= 64)
            {
                Store(x0, x1, x2, x3, destination.Slice(written, 64));
                _block += 16;
                written += 64;
            }
            else
            {
                Store(x0, x1, x2, x3, partial);
                partial[..left].CopyTo(destination.Slice(written, left));
                _block += (uint)(left / 4);
                written += left;
            }
        }
        return written;
    }

    /// <summary>One Philox round on sixteen blocks (block b in lane b of x0..x3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round(ref Vector512<uint> x0, ref Vector512<uint> x1, ref Vector512<uint> x2, ref Vector512<uint> x3, uint k0, uint k1)
    {
        // 32×32→64 products of the even lanes and of the odd lanes (shifted down first); the high halves are the even
        // products shifted down and the odd ones in place, the low halves the even ones in place and the odd ones shifted up.
        var odd = Vector512.Create(0xFFFF_FFFF_0000_0000UL).AsUInt32();
        Vector512<ulong> e0 = Avx512F.Multiply(x0, Vector512.Create(M0)), o0 = Avx512F.Multiply((x0.AsUInt64() >>> 32).AsUInt32(), Vector512.Create(M0));
        Vector512<ulong> e1 = Avx512F.Multiply(x2, Vector512.Create(M1)), o1 = Avx512F.Multiply((x2.AsUInt64() >>> 32).AsUInt32(), Vector512.Create(M1));
        Vector512<uint> hi0 = Vector512.ConditionalSelect(odd, o0.AsUInt32(), (e0 >>> 32).AsUInt32());
        Vector512<uint> lo0 = Vector512.ConditionalSelect(odd, (o0 << 32).AsUInt32(), e0.AsUInt32());
        Vector512<uint> hi1 = Vector512.ConditionalSelect(odd, o1.AsUInt32(), (e1 >>> 32).AsUInt32());
        Vector512<uint> lo1 = Vector512.ConditionalSelect(odd, (o1 << 32).AsUInt32(), e1.AsUInt32());
        x0 = hi1 ^ x1 ^ Vector512.Create(k0);
        x1 = lo1;
        x2 = hi0 ^ x3 ^ Vector512.Create(k1);
        x3 = lo0;
    }

    /// <summary>Writes sixteen blocks (block b in lane b of x0..x3) to <paramref name="destination"/> in the scalar path's order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<uint> x0, Vector512<uint> x1, Vector512<uint> x2, Vector512<uint> x3, Span<uint> destination)
    {
        // Transpose: 32-bit then 64-bit unpacks put block 4g + r in 128-bit lane g of u_r; 128-bit shuffles regroup them.
        Vector512<uint> t0 = Avx512F.UnpackLow(x0, x1), t1 = Avx512F.UnpackHigh(x0, x1);
        Vector512<uint> t2 = Avx512F.UnpackLow(x2, x3), t3 = Avx512F.UnpackHigh(x2, x3);
        Vector512<uint> u0 = Avx512F.UnpackLow(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();
        Vector512<uint> u1 = Avx512F.UnpackHigh(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();
        Vector512<uint> u2 = Avx512F.UnpackLow(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();
        Vector512<uint> u3 = Avx512F.UnpackHigh(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();
        Vector512<uint> a = Avx512F.Shuffle4x128(u0, u1, 0x44), b = Avx512F.Shuffle4x128(u2, u3, 0x44);
        Vector512<uint> c = Avx512F.Shuffle4x128(u0, u1, 0xEE), d = Avx512F.Shuffle4x128(u2, u3, 0xEE);
        Avx512F.Shuffle4x128(a, b, 0x88).CopyTo(destination);
        Avx512F.Shuffle4x128(a, b, 0xDD).CopyTo(destination[16..]);
        Avx512F.Shuffle4x128(c, d, 0x88).CopyTo(destination[32..]);
        Avx512F.Shuffle4x128(c, d, 0xDD).CopyTo(destination[48..]);
    }

    private void Refill()
    {
        Block(_block++, _c1, _c2, _c3, _k0, _k1, out _x0, out _x1, out _x2, out _x3);
        _available = 4;
    }
}
