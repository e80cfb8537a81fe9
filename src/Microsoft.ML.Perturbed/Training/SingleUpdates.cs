using System.Numerics;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>Adam's and AdaGrad's updates of the sparse step (docs/architecture.md, "Data sources and sparse training"), row by row in single precision.</summary>
internal static class SingleUpdates
{
    // Adam's and AdaGrad's constants are the dense optimizer's (GradientOptimizer), defined once.
    private const double Beta1 = GradientOptimizer.Beta1, Beta2 = GradientOptimizer.Beta2, AdamEpsilon = GradientOptimizer.AdamEpsilon,
        AdaGradEpsilon = GradientOptimizer.AdaGradEpsilon;

    /// <summary>
    /// Adam on one contiguous row of weights in single precision, elementwise (so the vector and scalar lanes give the same
    /// bits on every processor): m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², w ← w − (η/c₁)·m / (√(v/c₂) + 10⁻⁸).
    /// </summary>
    public static void Adam(Span<float> w, Span<float> m, Span<float> v, ReadOnlySpan<float> g, float stepSize, float inverseC2)
    {
        const float b1 = (float)Beta1, a1 = (float)(1 - Beta1), b2 = (float)Beta2, a2 = (float)(1 - Beta2), eps = (float)AdamEpsilon;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i + Vector<float>.Count <= w.Length; i += Vector<float>.Count)
            {
                var gi = new Vector<float>(g[i..]);
                Vector<float> mi = new Vector<float>(b1) * new Vector<float>(m[i..]) + new Vector<float>(a1) * gi;
                Vector<float> vi = new Vector<float>(b2) * new Vector<float>(v[i..]) + new Vector<float>(a2) * (gi * gi);
                Vector<float> wi = new Vector<float>(w[i..]) - new Vector<float>(stepSize) * mi / (Vector.SquareRoot(vi * new Vector<float>(inverseC2)) + new Vector<float>(eps));
                mi.CopyTo(m[i..]);
                vi.CopyTo(v[i..]);
                wi.CopyTo(w[i..]);
            }
        }
        for (; i < w.Length; i++)
        {
            float mi = b1 * m[i] + a1 * g[i], vi = b2 * v[i] + a2 * (g[i] * g[i]);
            m[i] = mi;
            v[i] = vi;
            w[i] -= stepSize * mi / (MathF.Sqrt(vi * inverseC2) + eps);
        }
    }

    /// <summary>AdaGrad on one contiguous row in single precision, elementwise: G ← G + g², w ← w − η·g / (√G + 10⁻¹⁰).</summary>
    public static void AdaGrad(Span<float> w, Span<float> accumulator, ReadOnlySpan<float> g, float learningRate)
    {
        const float eps = (float)AdaGradEpsilon;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i + Vector<float>.Count <= w.Length; i += Vector<float>.Count)
            {
                var gi = new Vector<float>(g[i..]);
                Vector<float> a = new Vector<float>(accumulator[i..]) + gi * gi;
                a.CopyTo(accumulator[i..]);
                (new Vector<float>(w[i..]) - new Vector<float>(learningRate) * gi / (Vector.SquareRoot(a) + new Vector<float>(eps))).CopyTo(w[i..]);
            }
        }
        for (; i < w.Length; i++)
        {
            float a = accumulator[i] + g[i] * g[i];
            accumulator[i] = a;
            w[i] -= learningRate * g[i] / (MathF.Sqrt(a) + eps);
        }
    }
}
