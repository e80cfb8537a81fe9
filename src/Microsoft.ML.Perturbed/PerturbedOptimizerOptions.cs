using Microsoft.ML.Perturbed.Noise;

namespace Microsoft.ML.Perturbed;

/// <summary>Settings of a <see cref="PerturbedOptimizer"/>. Checked when the optimizer is created.</summary>
public sealed class PerturbedOptimizerOptions
{
    /// <summary>
    /// The smallest ε accepted (1e-30): ε is applied in single precision, and the Monte-Carlo derivatives scale as 1/ε,
    /// which must stay inside float's range (3.4e38) with room for the upstream gradient.
    /// </summary>
    public const double MinEpsilon = 1e-30;

    /// <summary>The largest ε accepted (1e30): above it ε·Z overflows single precision for a few-σ draw.</summary>
    public const double MaxEpsilon = 1e30;

    /// <summary>The most samples M a call accepts (2²⁰): more would take hours per row and say nothing new.</summary>
    public const int MaxSamples = 1 << 20;

    /// <summary>Noise scale ε in [1e-30, 1e30] (<see cref="MinEpsilon"/>, <see cref="MaxEpsilon"/>). Larger ε smooths more; y*_ε(θ) = y*_1(θ/ε). Default 1.</summary>
    public double Epsilon { get; set; } = 1.0;

    /// <summary>
    /// Number M of noise samples per row. Default 100: the forward estimate of an entry of a 0/1 solution then has
    /// a standard error of at most 0.5/√M = 0.05. Training can use far fewer (M = 1 gives an unbiased stochastic
    /// gradient of the Fenchel-Young loss).
    /// </summary>
    public int Samples { get; set; } = 100;

    /// <summary>Noise law; default <see cref="NoiseDistribution.Normal"/>.</summary>
    public NoiseDistribution Noise { get; set; } = NoiseDistribution.Normal;

    /// <summary>Additive (default) or multiplicative perturbation. Multiplicative needs normal noise and positive scores.</summary>
    public PerturbationKind Perturbation { get; set; } = PerturbationKind.Additive;

    /// <summary>Variance reduction for JVP/VJP estimates; default none.</summary>
    public VarianceReduction VarianceReduction { get; set; } = VarianceReduction.None;

    /// <summary>Seed of the noise. With the same seed, draw index and inputs, results are identical bit for bit.</summary>
    public int Seed { get; set; }

    /// <summary>Most threads a call may use; −1 (default) uses every core. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; set; } = -1;

    /// <summary>
    /// Checks every setting (the one set of checks for the managed and the TorchSharp perturbed optimizers); the message
    /// names the setting and its value.
    /// </summary>
    /// <param name="paramName">The argument these options were passed as, named in the exception.</param>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate(string paramName = "options")
    {
        if (!(Epsilon >= MinEpsilon && Epsilon <= MaxEpsilon))
        {
            throw new ArgumentOutOfRangeException(paramName, Epsilon, $"'{nameof(Epsilon)}' must be in [{MinEpsilon}, {MaxEpsilon}], got {Epsilon}.");
        }
        if (Samples < 1 || Samples > MaxSamples)
        {
            throw new ArgumentOutOfRangeException(paramName, Samples, $"'{nameof(Samples)}' (M) must be in [1, {MaxSamples}], got {Samples}.");
        }
        ArgumentNullException.ThrowIfNull(Noise, $"{paramName}.{nameof(Noise)}");
        if (!Enum.IsDefined(Perturbation))
        {
            throw new ArgumentOutOfRangeException(paramName, Perturbation, "Unknown perturbation kind.");
        }
        if (!Enum.IsDefined(VarianceReduction))
        {
            throw new ArgumentOutOfRangeException(paramName, VarianceReduction, "Unknown variance reduction.");
        }
        if (VarianceReduction == VarianceReduction.LeaveOneOut && Samples < 2)
        {
            throw new ArgumentOutOfRangeException(paramName, Samples, $"Leave-one-out variance reduction needs '{nameof(Samples)}' ≥ 2, got {Samples}.");
        }
        if (Perturbation == PerturbationKind.Multiplicative && Noise is not NormalNoise)
        {
            throw new ArgumentException(
                $"Multiplicative perturbation needs normal noise (its mean-one correction exp(−ε²/2) is the normal one), got {Noise.Name}.", paramName);
        }
        if (MaxDegreeOfParallelism == 0 || MaxDegreeOfParallelism < -1)
        {
            throw new ArgumentOutOfRangeException(paramName, MaxDegreeOfParallelism, $"'{nameof(MaxDegreeOfParallelism)}' must be −1 (all cores) or at least 1.");
        }
    }
}
