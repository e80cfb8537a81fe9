using System.Numerics;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Perturbed;

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

    /// <summary>destination = (float)(a·x).</summary>
    public static void Scale(ReadOnlySpan<double> x, double a, Span<float> destination)
    {
        for (int i = 0; i < x.Length; i++)
        {
            destination[i] = (float)(a * x[i]);
        }
    }
}
