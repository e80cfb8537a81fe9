using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Noise;

/// <summary>
/// Standard Gumbel noise (location 0, scale 1; mean γ ≈ 0.5772). With the Argmax oracle it gives the closed
/// forms y*_ε(θ) = softmax(θ/ε) and F_ε(θ) = ε·logsumexp(θ/ε) + εγ.
/// </summary>
internal sealed class GumbelNoise : NoiseDistribution
{
    /// <summary>The Euler–Mascheroni constant, the mean of the standard Gumbel law.</summary>
    public const double EulerGamma = 0.57721566490153286;

    /// <inheritdoc/>
    public override string Name => "Gumbel";

    /// <inheritdoc/>
    internal override void Sample(ref PhiloxStream stream, Span<float> destination)
    {
        // Inverse CDF: z = −ln(−ln u), u ∈ (0,1), sixteen (AVX-512) or eight at a time in one pass (NoiseMath: the same bits at either width); the last < 8 padded to one vector.
        Uniforms.Fill(ref stream, destination);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= destination.Length; i += 16)
            {
                Vector512<float> u = Vector512.Create(destination.Slice(i, 16));
                (-NoiseMath.Log(-NoiseMath.Log(u))).CopyTo(destination.Slice(i, 16));
            }
        }
        for (; i + 8 <= destination.Length; i += 8)
        {
            Inverse(Vector256.Create(destination.Slice(i, 8))).CopyTo(destination.Slice(i, 8));
        }
        if (i < destination.Length)
        {
            Span<float> u = stackalloc float[8];
            u.Fill(0.5f);
            destination[i..].CopyTo(u);
            Inverse(Vector256.Create(u)).CopyTo(u);
            u[..(destination.Length - i)].CopyTo(destination[i..]);
        }
    }

    private static Vector256<float> Inverse(Vector256<float> u) => -NoiseMath.Log(-NoiseMath.Log(u));

    /// <inheritdoc/>
    internal override void Score(ReadOnlySpan<float> z, Span<float> destination)
    {
        TensorPrimitives.Negate(z, destination);
        TensorPrimitives.Exp(destination, destination);
        TensorPrimitives.Subtract(1f, destination, destination);
    }

    /// <inheritdoc/>
    internal override double NegativeLogDensity(double z) => z + Math.Exp(-z);
}
