using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Noise;

/// <summary>Standard normal noise drawn by the Box–Muller transform from a counter-based stream.</summary>
public sealed class NormalNoise : NoiseDistribution
{
    /// <inheritdoc/>
    public override string Name => "Normal";

    /// <inheritdoc/>
    public override void Sample(ref PhiloxStream stream, Span<float> destination)
    {
        int i = 0;
        for (; i + 2 <= destination.Length; i += 2)
        {
            // z₁ = r cos 2πu₂, z₂ = r sin 2πu₂ with r = √(−2 ln u₁); u₁ ∈ (0,1) so r is finite.
            float r = MathF.Sqrt(-2f * MathF.Log(stream.NextSingle()));
            (float sin, float cos) = MathF.SinCos(2f * MathF.PI * stream.NextSingle());
            destination[i] = r * cos;
            destination[i + 1] = r * sin;
        }
        if (i < destination.Length)
        {
            float r = MathF.Sqrt(-2f * MathF.Log(stream.NextSingle()));
            destination[i] = r * MathF.Cos(2f * MathF.PI * stream.NextSingle());
        }
    }

    /// <inheritdoc/>
    public override void Score(ReadOnlySpan<float> z, Span<float> destination) => z.CopyTo(destination);

    /// <inheritdoc/>
    public override double NegativeLogDensity(double z) => 0.5 * z * z;
}
