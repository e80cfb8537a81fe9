using System.Numerics.Tensors;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Noise;

/// <summary>Standard normal noise drawn by the Box–Muller transform from a counter-based stream.</summary>
public sealed class NormalNoise : NoiseDistribution
{
    /// <inheritdoc/>
    public override string Name => "Normal";

    /// <inheritdoc/>
    /// <remarks>
    /// Vectorized Box–Muller: with the first half of the uniforms as u₁ and the second as u₂, writes
    /// z = r·cos(2πu₂) to the first half and r·sin(2πu₂) to the second, r = √(−2 ln u₁). An odd last entry uses
    /// one more pair of uniforms.
    /// </remarks>
    public override void Sample(ref PhiloxStream stream, Span<float> destination)
    {
        int half = destination.Length / 2;
        Span<float> a = destination[..half], b = destination.Slice(half, half);
        Uniforms.Fill(ref stream, destination[..(2 * half)]);
        Span<float> cos = Uniforms.Scratch(half);
        TensorPrimitives.Log(a, a);
        TensorPrimitives.Multiply(a, -2f, a);
        TensorPrimitives.Sqrt(a, a);
        TensorPrimitives.Multiply(b, 2f, b);
        TensorPrimitives.CosPi(b, cos);
        TensorPrimitives.SinPi(b, b);
        TensorPrimitives.Multiply(b, a, b);
        TensorPrimitives.Multiply(a, cos, a);
        if (destination.Length % 2 == 1)
        {
            float r = MathF.Sqrt(-2f * MathF.Log(stream.NextSingle()));
            destination[^1] = r * MathF.Cos(2f * MathF.PI * stream.NextSingle());
        }
    }

    /// <inheritdoc/>
    public override void Score(ReadOnlySpan<float> z, Span<float> destination) => z.CopyTo(destination);

    /// <inheritdoc/>
    public override double NegativeLogDensity(double z) => 0.5 * z * z;
}
