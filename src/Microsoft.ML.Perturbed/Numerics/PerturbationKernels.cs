using System.Runtime.Intrinsics;

namespace Microsoft.ML.Perturbed.Numerics;

/// <summary>
/// The perturbed optimizer's per-sample passes, each fused with the finiteness check it needs: θ + εz, and the
/// solution added to the running sum. The same bits as the plain loops (tested), whatever the vector width.
/// </summary>
internal static class PerturbationKernels
{
    /// <summary>
    /// u = θ + ε·z element by element, rounded as written (a multiply, then an add: no fused multiply-add, so every
    /// processor gives the same bits), in one pass that also tells whether every uᵢ is finite.
    /// </summary>
    public static bool MultiplyAddAllFinite(ReadOnlySpan<float> z, float epsilon, ReadOnlySpan<float> theta, Span<float> u)
    {
        int n = z.Length, i = 0;
        theta = theta[..n];
        u = u[..n];
        bool finite = true;
        if (Vector512.IsHardwareAccelerated)
        {
            var eps = Vector512.Create(epsilon);
            var exponent = Vector512.Create(0x7F80_0000u);
            var bad = Vector512<uint>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> x = Vector512.Create(z.Slice(i, 16)) * eps + Vector512.Create(theta.Slice(i, 16));
                bad |= Vector512.Equals(x.AsUInt32() & exponent, exponent);
                x.CopyTo(u.Slice(i, 16));
            }
            finite = bad == Vector512<uint>.Zero;
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var eps = Vector256.Create(epsilon);
            var exponent = Vector256.Create(0x7F80_0000u);
            var bad = Vector256<uint>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> x = Vector256.Create(z.Slice(i, 8)) * eps + Vector256.Create(theta.Slice(i, 8));
                bad |= Vector256.Equals(x.AsUInt32() & exponent, exponent);
                x.CopyTo(u.Slice(i, 8));
            }
            finite = bad == Vector256<uint>.Zero;
        }
        for (; i < n; i++)
        {
            u[i] = z[i] * epsilon + theta[i];
            finite &= float.IsFinite(u[i]);
        }
        return finite;
    }

    /// <summary>
    /// acc += x in double, skipping the sixteen-entry blocks of x that are all zero (a solution of argmax, top-k, a path
    /// or a matching is mostly zeros), in one pass that also tells whether every xᵢ is finite. The same bits as
    /// <see cref="SpanMath.Add(Span{double}, ReadOnlySpan{float})"/>: adding ±0 leaves a sum unchanged.
    /// </summary>
    public static bool AddAllFinite(Span<double> acc, ReadOnlySpan<float> x)
    {
        int n = x.Length, i = 0;
        acc = acc[..n];
        if (Vector512.IsHardwareAccelerated)
        {
            var exponent = Vector512.Create(0x7F80_0000u);
            var bad = Vector512<uint>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> v = Vector512.Create(x.Slice(i, 16));
                if (v == Vector512<float>.Zero)
                {
                    continue;   // also −0: IEEE equality
                }
                bad |= Vector512.Equals(v.AsUInt32() & exponent, exponent);
                (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(v);
                Span<double> dst = acc.Slice(i, 16);
                (Vector512.Create((ReadOnlySpan<double>)dst) + lo).CopyTo(dst);
                (Vector512.Create((ReadOnlySpan<double>)dst[8..]) + hi).CopyTo(dst[8..]);
            }
            if (bad != Vector512<uint>.Zero)
            {
                return false;
            }
        }
        bool finite = true;
        for (int j = i; j < n; j++)
        {
            finite &= float.IsFinite(x[j]);
        }
        SpanMath.Add(acc[i..], x[i..]);
        return finite;
    }
}
