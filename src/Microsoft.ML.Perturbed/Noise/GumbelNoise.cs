using System.Numerics.Tensors;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Noise;

/// <summary>
/// Standard Gumbel noise (location 0, scale 1; mean γ ≈ 0.5772). With the Argmax oracle it gives the closed
/// forms y*_ε(θ) = softmax(θ/ε) and F_ε(θ) = ε·logsumexp(θ/ε) + εγ.
/// </summary>
public sealed class GumbelNoise : NoiseDistribution
{
    /// <summary>The Euler–Mascheroni constant, the mean of the standard Gumbel law.</summary>
    public const double EulerGamma = 0.57721566490153286;

    /// <inheritdoc/>
    public override string Name => "Gumbel";

    /// <inheritdoc/>
    public override void Sample(ref PhiloxStream stream, Span<float> destination)
    {
        // Inverse CDF: z = −ln(−ln u), u ∈ (0,1), vectorized.
        Uniforms.Fill(ref stream, destination);
        TensorPrimitives.Log(destination, destination);
        TensorPrimitives.Negate(destination, destination);
        TensorPrimitives.Log(destination, destination);
        TensorPrimitives.Negate(destination, destination);
    }

    /// <inheritdoc/>
    public override void Score(ReadOnlySpan<float> z, Span<float> destination)
    {
        TensorPrimitives.Negate(z, destination);
        TensorPrimitives.Exp(destination, destination);
        TensorPrimitives.Subtract(1f, destination, destination);
    }

    /// <inheritdoc/>
    public override double NegativeLogDensity(double z) => z + Math.Exp(-z);
}
