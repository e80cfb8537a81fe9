using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.Perturbed.Noise;

/// <summary>
/// The transcendental functions the samplers need, eight lanes at a time and fused into one pass over the uniforms:
/// ln of a positive normal float and (sin, cos) of 2πu for u in (0, 1). Written with <see cref="Vector256{T}"/> and plain
/// IEEE multiplies and adds (no fused multiply-add), so every processor — AVX2, AVX-512, or the software fallback — gives
/// the same bits. Accuracy: a few ulps (Cephes' single-precision minimax polynomials). The sixteen-lane overloads, for
/// processors with AVX-512, repeat the eight-lane ones operation for operation (lanes never interact), so the width a
/// processor runs never changes a value.
/// </summary>
internal static class NoiseMath
{
    private const float Sqrt2 = 1.41421356f;

    /// <summary>ln x for positive, normal, finite x (the samplers' uniforms and their −ln).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log(Vector256<float> x)
    {
        // x = m·2^e with m in [√½, √2): ln x = e·ln 2 + ln(1 + f), f = m − 1 (exact).
        Vector256<int> bits = x.AsInt32();
        Vector256<int> e = (bits >> 23) - Vector256.Create(127);
        Vector256<float> m = ((bits & Vector256.Create(0x007F_FFFF)) | Vector256.Create(0x3F80_0000)).AsSingle();
        Vector256<float> big = Vector256.GreaterThan(m, Vector256.Create(Sqrt2));
        m = Vector256.ConditionalSelect(big, m * Vector256.Create(0.5f), m);
        e -= big.AsInt32();   // all ones = −1
        Vector256<float> fe = Vector256.ConvertToSingle(e);
        Vector256<float> f = m - Vector256<float>.One;
        Vector256<float> z = f * f;
        Vector256<float> p = Vector256.Create(7.0376836292E-2f);
        p = p * f + Vector256.Create(-1.1514610310E-1f);
        p = p * f + Vector256.Create(1.1676998740E-1f);
        p = p * f + Vector256.Create(-1.2420140846E-1f);
        p = p * f + Vector256.Create(1.4249322787E-1f);
        p = p * f + Vector256.Create(-1.6668057665E-1f);
        p = p * f + Vector256.Create(2.0000714765E-1f);
        p = p * f + Vector256.Create(-2.4999993993E-1f);
        p = p * f + Vector256.Create(3.3333331174E-1f);
        Vector256<float> y = f * z * p;
        y += fe * Vector256.Create(-2.12194440E-4f);
        y -= z * Vector256.Create(0.5f);
        return f + y + fe * Vector256.Create(0.693359375f);   // ln 2 = 0.693359375 − 2.12194440e−4, split for accuracy
    }

    /// <summary>(sin 2πu, cos 2πu) for u in [0, 1]: u = q/4 + r exactly with |r| ≤ 1/8, then polynomials on |2πr| ≤ π/4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCosTwoPi(Vector256<float> u, out Vector256<float> sin, out Vector256<float> cos)
    {
        Vector256<float> q = Vector256.Round(u * Vector256.Create(4f));
        Vector256<float> a = (u - q * Vector256.Create(0.25f)) * Vector256.Create(2 * MathF.PI);
        Vector256<float> a2 = a * a;
        Vector256<float> s = Vector256.Create(-1.9515295891E-4f);
        s = s * a2 + Vector256.Create(8.3321608736E-3f);
        s = s * a2 + Vector256.Create(-1.6666654611E-1f);
        s = a + a * a2 * s;
        Vector256<float> c = Vector256.Create(2.443315711809948E-5f);
        c = c * a2 + Vector256.Create(-1.388731625493765E-3f);
        c = c * a2 + Vector256.Create(4.166664568298827E-2f);
        c = Vector256<float>.One - a2 * Vector256.Create(0.5f) + a2 * a2 * c;
        // Quadrant q: sin(qπ/2 + a) and cos(qπ/2 + a) are ±sin a or ±cos a.
        Vector256<int> quadrant = Vector256.ConvertToInt32(q);
        Vector256<float> swap = Vector256.Equals(quadrant & Vector256.Create(1), Vector256.Create(1)).AsSingle();
        Vector256<float> sinNegative = ((quadrant & Vector256.Create(2)) << 30).AsSingle();
        Vector256<float> cosNegative = (((quadrant + Vector256.Create(1)) & Vector256.Create(2)) << 30).AsSingle();
        sin = Vector256.ConditionalSelect(swap, c, s) ^ sinNegative;
        cos = Vector256.ConditionalSelect(swap, s, c) ^ cosNegative;
    }

    /// <summary>ln x, sixteen lanes: the same operations as the eight-lane overload, so the same bits lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log(Vector512<float> x)
    {
        // x = m·2^e with m in [√½, √2): ln x = e·ln 2 + ln(1 + f), f = m − 1 (exact).
        Vector512<int> bits = x.AsInt32();
        Vector512<int> e = (bits >> 23) - Vector512.Create(127);
        Vector512<float> m = ((bits & Vector512.Create(0x007F_FFFF)) | Vector512.Create(0x3F80_0000)).AsSingle();
        Vector512<float> big = Vector512.GreaterThan(m, Vector512.Create(Sqrt2));
        m = Vector512.ConditionalSelect(big, m * Vector512.Create(0.5f), m);
        e -= big.AsInt32();   // all ones = −1
        Vector512<float> fe = Vector512.ConvertToSingle(e);
        Vector512<float> f = m - Vector512<float>.One;
        Vector512<float> z = f * f;
        Vector512<float> p = Vector512.Create(7.0376836292E-2f);
        p = p * f + Vector512.Create(-1.1514610310E-1f);
        p = p * f + Vector512.Create(1.1676998740E-1f);
        p = p * f + Vector512.Create(-1.2420140846E-1f);
        p = p * f + Vector512.Create(1.4249322787E-1f);
        p = p * f + Vector512.Create(-1.6668057665E-1f);
        p = p * f + Vector512.Create(2.0000714765E-1f);
        p = p * f + Vector512.Create(-2.4999993993E-1f);
        p = p * f + Vector512.Create(3.3333331174E-1f);
        Vector512<float> y = f * z * p;
        y += fe * Vector512.Create(-2.12194440E-4f);
        y -= z * Vector512.Create(0.5f);
        return f + y + fe * Vector512.Create(0.693359375f);   // ln 2 = 0.693359375 − 2.12194440e−4, split for accuracy
    }

    /// <summary>(sin 2πu, cos 2πu), sixteen lanes: the same operations as the eight-lane overload, so the same bits lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCosTwoPi(Vector512<float> u, out Vector512<float> sin, out Vector512<float> cos)
    {
        Vector512<float> q = Vector512.Round(u * Vector512.Create(4f));
        Vector512<float> a = (u - q * Vector512.Create(0.25f)) * Vector512.Create(2 * MathF.PI);
        Vector512<float> a2 = a * a;
        Vector512<float> s = Vector512.Create(-1.9515295891E-4f);
        s = s * a2 + Vector512.Create(8.3321608736E-3f);
        s = s * a2 + Vector512.Create(-1.6666654611E-1f);
        s = a + a * a2 * s;
        Vector512<float> c = Vector512.Create(2.443315711809948E-5f);
        c = c * a2 + Vector512.Create(-1.388731625493765E-3f);
        c = c * a2 + Vector512.Create(4.166664568298827E-2f);
        c = Vector512<float>.One - a2 * Vector512.Create(0.5f) + a2 * a2 * c;
        // Quadrant q: sin(qπ/2 + a) and cos(qπ/2 + a) are ±sin a or ±cos a.
        Vector512<int> quadrant = Vector512.ConvertToInt32(q);
        Vector512<float> swap = Vector512.Equals(quadrant & Vector512.Create(1), Vector512.Create(1)).AsSingle();
        Vector512<float> sinNegative = ((quadrant & Vector512.Create(2)) << 30).AsSingle();
        Vector512<float> cosNegative = (((quadrant + Vector512.Create(1)) & Vector512.Create(2)) << 30).AsSingle();
        sin = Vector512.ConditionalSelect(swap, c, s) ^ sinNegative;
        cos = Vector512.ConditionalSelect(swap, s, c) ^ cosNegative;
    }
}
