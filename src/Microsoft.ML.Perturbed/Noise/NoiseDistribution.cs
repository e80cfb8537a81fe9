using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Noise;

/// <summary>
/// The law of the perturbation Z, with density μ(z) ∝ exp(−ν(z)) and i.i.d. coordinates. A perturbed optimizer
/// needs two things from it: samples, and the score ∇ν(z) = −∇ log μ(z) that turns solver outputs into
/// Jacobian estimates (Berthet et al. 2020, Prop. 3.1).
/// </summary>
/// <remarks>
/// The laws are the library's (<see cref="Normal"/>, <see cref="Gumbel"/>): each samples from the counter-based stream of
/// its (seed, draw, row, sample), which is what makes results independent of threads; a new law is added inside the
/// library (docs/architecture.md, "Noise"), thread-safe and deterministic.
/// </remarks>
public abstract class NoiseDistribution
{
    /// <summary>Only the library defines noise laws (each with its sampler on the library's counter-based streams).</summary>
    private protected NoiseDistribution()
    {
    }

    /// <summary>Standard normal noise, ν(z) = ½‖z‖², ∇ν(z) = z.</summary>
    public static NoiseDistribution Normal { get; } = new NormalNoise();

    /// <summary>Standard Gumbel noise (location 0, scale 1), ν(z) = z + e^{−z}, ∇ν(z) = 1 − e^{−z}.</summary>
    public static NoiseDistribution Gumbel { get; } = new GumbelNoise();

    /// <summary>Short name used in messages and saved models ("Normal", "Gumbel").</summary>
    public abstract string Name { get; }

    /// <summary>Fills <paramref name="destination"/> with i.i.d. draws taken from <paramref name="stream"/>.</summary>
    internal abstract void Sample(ref PhiloxStream stream, Span<float> destination);

    /// <summary>Writes the score ∇ν(z) of each coordinate of <paramref name="z"/> into <paramref name="destination"/>.</summary>
    internal abstract void Score(ReadOnlySpan<float> z, Span<float> destination);

    /// <summary>ν(z) for one coordinate: the negative log-density up to an additive constant.</summary>
    internal abstract double NegativeLogDensity(double z);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
