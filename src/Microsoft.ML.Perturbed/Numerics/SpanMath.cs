using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.Perturbed.Numerics;

/// <summary>
/// Small SIMD kernels whose summation order depends only on the length, never on memory alignment or threads,
/// so results are reproducible bit for bit.
/// </summary>
internal static class SpanMath
{
    /// <summary>⟨x, y⟩ with float lanes, summed in double at the end.</summary>
    public static double Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int n = x.Length, i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            ReadOnlySpan<Vector<float>> xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            ReadOnlySpan<Vector<float>> yv = MemoryMarshal.Cast<float, Vector<float>>(y[..n]);
            for (int k = 0; k < xv.Length; k++)
            {
                acc += xv[k] * yv[k];
            }
            for (int lane = 0; lane < Vector<float>.Count; lane++)
            {
                sum += acc[lane];
            }
            i = xv.Length * Vector<float>.Count;
        }
        for (; i < n; i++)
        {
            sum += (double)x[i] * y[i];
        }
        return sum;
    }

    /// <summary>
    /// The four dot products ⟨wₖ, x⟩ (k = 0..3, rows of <paramref name="w"/> of length x.Length, starting at
    /// <paramref name="row"/>), each computed exactly as <see cref="Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>
    /// does — same products, same lane order, same bits — but as four independent chains sharing the loads of x.
    /// </summary>
    public static void Dot4(ReadOnlySpan<float> w, int row, ReadOnlySpan<float> x, Span<double> result)
    {
        int n = x.Length, i = 0;
        ReadOnlySpan<float> w0 = w.Slice(row * n, n), w1 = w.Slice((row + 1) * n, n), w2 = w.Slice((row + 2) * n, n), w3 = w.Slice((row + 3) * n, n);
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            Vector<float> a0 = Vector<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            ReadOnlySpan<Vector<float>> xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            ReadOnlySpan<Vector<float>> v0 = MemoryMarshal.Cast<float, Vector<float>>(w0), v1 = MemoryMarshal.Cast<float, Vector<float>>(w1);
            ReadOnlySpan<Vector<float>> v2 = MemoryMarshal.Cast<float, Vector<float>>(w2), v3 = MemoryMarshal.Cast<float, Vector<float>>(w3);
            for (int k = 0; k < xv.Length; k++)
            {
                Vector<float> xk = xv[k];
                a0 += v0[k] * xk;
                a1 += v1[k] * xk;
                a2 += v2[k] * xk;
                a3 += v3[k] * xk;
            }
            for (int lane = 0; lane < Vector<float>.Count; lane++)
            {
                s0 += a0[lane];
                s1 += a1[lane];
                s2 += a2[lane];
                s3 += a3[lane];
            }
            i = xv.Length * Vector<float>.Count;
        }
        for (; i < n; i++)
        {
            s0 += (double)w0[i] * x[i];
            s1 += (double)w1[i] * x[i];
            s2 += (double)w2[i] * x[i];
            s3 += (double)w3[i] * x[i];
        }
        result[0] = s0;
        result[1] = s1;
        result[2] = s2;
        result[3] = s3;
    }

    /// <summary>acc += a·x, with x widened to double.</summary>
    public static void AddScaled(Span<double> acc, ReadOnlySpan<float> x, double a)
    {
        int n = x.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var av = new Vector<double>(a);
            ReadOnlySpan<Vector<float>> xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            int half = Vector<double>.Count;
            for (int k = 0; k < xv.Length; k++)
            {
                Vector.Widen(xv[k], out Vector<double> lo, out Vector<double> hi);
                Span<double> dst = acc.Slice(k * Vector<float>.Count, Vector<float>.Count);
                (new Vector<double>(dst) + av * lo).CopyTo(dst);
                (new Vector<double>(dst[half..]) + av * hi).CopyTo(dst[half..]);
            }
            i = xv.Length * Vector<float>.Count;
        }
        for (; i < n; i++)
        {
            acc[i] += a * x[i];
        }
    }

    /// <summary>
    /// acc += (float)(a·x), each product taken in double and rounded to float before the float add — elementwise, so
    /// the vector and scalar paths give the same bits.
    /// </summary>
    public static void AddScaledRounded(Span<float> acc, ReadOnlySpan<float> x, double a)
    {
        int n = x.Length, i = 0;
        acc = acc[..n];
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var av = new Vector<double>(a);
            ReadOnlySpan<Vector<float>> xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            Span<Vector<float>> accv = MemoryMarshal.Cast<float, Vector<float>>(acc);
            for (int k = 0; k < xv.Length; k++)
            {
                Vector.Widen(xv[k], out Vector<double> lo, out Vector<double> hi);
                accv[k] += Vector.Narrow(av * lo, av * hi);
            }
            i = xv.Length * Vector<float>.Count;
        }
        for (; i < n; i++)
        {
            acc[i] += (float)(a * x[i]);
        }
    }

    /// <summary>acc += x, with x widened to double.</summary>
    public static void Add(Span<double> acc, ReadOnlySpan<float> x)
    {
        int n = x.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            ReadOnlySpan<Vector<float>> xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            int half = Vector<double>.Count;
            for (int k = 0; k < xv.Length; k++)
            {
                Vector.Widen(xv[k], out Vector<double> lo, out Vector<double> hi);
                Span<double> dst = acc.Slice(k * Vector<float>.Count, Vector<float>.Count);
                (new Vector<double>(dst) + lo).CopyTo(dst);
                (new Vector<double>(dst[half..]) + hi).CopyTo(dst[half..]);
            }
            i = xv.Length * Vector<float>.Count;
        }
        for (; i < n; i++)
        {
            acc[i] += x[i];
        }
    }

    /// <summary>
    /// ⟨x, y⟩ in double, in an order fixed by the length: four vector accumulators of fused multiply-adds (so the
    /// adds overlap instead of waiting on each other), combined and summed lane by lane in order.
    /// </summary>
    public static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int n = x.Length, i = 0;
        double sum = 0;
        y = y[..n];
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            Vector<double> a0 = Vector<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
            ReadOnlySpan<Vector<double>> xv = MemoryMarshal.Cast<double, Vector<double>>(x);
            ReadOnlySpan<Vector<double>> yv = MemoryMarshal.Cast<double, Vector<double>>(y);
            int k = 0;
            for (; k + 4 <= xv.Length; k += 4)
            {
                a0 = Vector.FusedMultiplyAdd(xv[k], yv[k], a0);
                a1 = Vector.FusedMultiplyAdd(xv[k + 1], yv[k + 1], a1);
                a2 = Vector.FusedMultiplyAdd(xv[k + 2], yv[k + 2], a2);
                a3 = Vector.FusedMultiplyAdd(xv[k + 3], yv[k + 3], a3);
            }
            for (; k < xv.Length; k++)
            {
                a0 = Vector.FusedMultiplyAdd(xv[k], yv[k], a0);
            }
            Vector<double> acc = (a0 + a1) + (a2 + a3);
            for (int lane = 0; lane < Vector<double>.Count; lane++)
            {
                sum += acc[lane];
            }
            i = xv.Length * Vector<double>.Count;
        }
        for (; i < n; i++)
        {
            sum = Math.FusedMultiplyAdd(x[i], y[i], sum);
        }
        return sum;
    }

    /// <summary>
    /// destination = exp(x) elementwise (in place allowed), with the runtime's vector exponential (512- or 256-bit,
    /// whichever the hardware runs) and <see cref="Math.Exp"/> for the tail; about twice as fast as
    /// TensorPrimitives.Exp on doubles here.
    /// </summary>
    public static void Exp(ReadOnlySpan<double> x, Span<double> destination)
    {
        int n = x.Length, i = 0;
        destination = destination[..n];
        ref double xr = ref MemoryMarshal.GetReference(x);
        ref double dr = ref MemoryMarshal.GetReference(destination);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + Vector512<double>.Count <= n; i += Vector512<double>.Count)
            {
                Vector512.Exp(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + Vector256<double>.Count <= n; i += Vector256<double>.Count)
            {
                Vector256.Exp(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            destination[i] = Math.Exp(x[i]);
        }
    }

    /// <summary>Σ x in double, in an order fixed by the length.</summary>
    public static double Sum(ReadOnlySpan<double> x)
    {
        int n = x.Length, i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var acc = Vector<double>.Zero;
            ReadOnlySpan<Vector<double>> xv = MemoryMarshal.Cast<double, Vector<double>>(x);
            for (int k = 0; k < xv.Length; k++)
            {
                acc += xv[k];
            }
            for (int lane = 0; lane < Vector<double>.Count; lane++)
            {
                sum += acc[lane];
            }
            i = xv.Length * Vector<double>.Count;
        }
        for (; i < n; i++)
        {
            sum += x[i];
        }
        return sum;
    }

    /// <summary>acc += a·x (double).</summary>
    public static void AddScaled(Span<double> acc, ReadOnlySpan<double> x, double a)
    {
        int n = x.Length, i = 0;
        acc = acc[..n];
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var av = new Vector<double>(a);
            ReadOnlySpan<Vector<double>> xv = MemoryMarshal.Cast<double, Vector<double>>(x);
            Span<Vector<double>> accv = MemoryMarshal.Cast<double, Vector<double>>(acc);
            for (int k = 0; k < xv.Length; k++)
            {
                accv[k] = Vector.FusedMultiplyAdd(av, xv[k], accv[k]);
            }
            i = xv.Length * Vector<double>.Count;
        }
        for (; i < n; i++)
        {
            acc[i] = Math.FusedMultiplyAdd(a, x[i], acc[i]);
        }
    }

    /// <summary>acc += a·(x ⊙ y) (double), one pass.</summary>
    public static void AddScaledProduct(Span<double> acc, ReadOnlySpan<double> x, ReadOnlySpan<double> y, double a)
    {
        int n = x.Length, i = 0;
        acc = acc[..n];
        y = y[..n];
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var av = new Vector<double>(a);
            ReadOnlySpan<Vector<double>> xv = MemoryMarshal.Cast<double, Vector<double>>(x);
            ReadOnlySpan<Vector<double>> yv = MemoryMarshal.Cast<double, Vector<double>>(y);
            Span<Vector<double>> accv = MemoryMarshal.Cast<double, Vector<double>>(acc);
            for (int k = 0; k < xv.Length; k++)
            {
                accv[k] = Vector.FusedMultiplyAdd(av * xv[k], yv[k], accv[k]);
            }
            i = xv.Length * Vector<double>.Count;
        }
        for (; i < n; i++)
        {
            acc[i] = Math.FusedMultiplyAdd(a * x[i], y[i], acc[i]);
        }
    }

    /// <summary>destination = a·(x ⊙ y) (double).</summary>
    public static void ScaledProduct(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double a, Span<double> destination)
    {
        int n = x.Length, i = 0;
        destination = destination[..n];
        y = y[..n];
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var av = new Vector<double>(a);
            ReadOnlySpan<Vector<double>> xv = MemoryMarshal.Cast<double, Vector<double>>(x);
            ReadOnlySpan<Vector<double>> yv = MemoryMarshal.Cast<double, Vector<double>>(y);
            Span<Vector<double>> dv = MemoryMarshal.Cast<double, Vector<double>>(destination);
            for (int k = 0; k < xv.Length; k++)
            {
                dv[k] = av * xv[k] * yv[k];
            }
            i = xv.Length * Vector<double>.Count;
        }
        for (; i < n; i++)
        {
            destination[i] = a * x[i] * y[i];
        }
    }

    /// <summary>destination = (float)(a·x).</summary>
    public static void Scale(ReadOnlySpan<double> x, double a, Span<float> destination)
    {
        for (int i = 0; i < x.Length; i++)
        {
            destination[i] = (float)(a * x[i]);
        }
    }
}
