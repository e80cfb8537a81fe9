using Microsoft.ML.Perturbed.Noise;

namespace Microsoft.ML.Perturbed;

/// <summary>
/// The perturbation settings — ε, M, noise, kind, variance reduction, seed and parallelism — defined once: the settings of
/// a <see cref="PerturbedOptimizer"/>, and the base of every options class that perturbs (the training losses'
/// <see cref="Losses.StructuredLossOptions"/>, the soft operators' <see cref="Sorting.SoftRankingOptions"/>), which add
/// their own settings and may change a default in their constructor. Checked when the optimizer (loss, operator) is created.
/// </summary>
public class PerturbedOptimizerOptions
{
    /// <summary>Default noise scale ε: 1.</summary>
    public const double DefaultEpsilon = 1.0;

    /// <summary>Default number of samples M for an optimizer or soft operator on its own: 100.</summary>
    public const int DefaultSamples = 100;

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
    public double Epsilon { get; set; } = DefaultEpsilon;

    /// <summary>
    /// Number M of noise samples per row. Default 100: the forward estimate of an entry of a 0/1 solution then has
    /// a standard error of at most 0.5/√M = 0.05. Training can use far fewer (M = 1 gives an unbiased stochastic
    /// gradient of the Fenchel-Young loss).
    /// </summary>
    public int Samples { get; set; } = DefaultSamples;

    /// <summary>Noise law; default <see cref="NoiseDistribution.Normal"/>.</summary>
    public NoiseDistribution Noise { get; set; } = NoiseDistribution.Normal;

    /// <summary>Additive (default) or multiplicative perturbation. Multiplicative needs normal noise and positive scores.</summary>
    public PerturbationKind Perturbation { get; set; } = PerturbationKind.Additive;

    /// <summary>Variance reduction for JVP/VJP estimates; default none.</summary>
    public VarianceReduction VarianceReduction { get; set; } = VarianceReduction.None;

    /// <summary>Seed of the noise (and of the solve coins of the losses over a solution pool). With the same seed, draw index and inputs, results are identical bit for bit.</summary>
    public int Seed { get; set; }

    /// <summary>Most threads a call may use; −1 (default) uses every core. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; set; } = -1;

    /// <summary>
    /// Checks every setting (the one set of checks for the managed and the TorchSharp perturbed optimizers, the losses and
    /// the soft operators); the exception names the setting (its <see cref="ArgumentException.ParamName"/>), its value and
    /// the accepted range.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public virtual void Validate()
    {
        Check.InRange(Epsilon, MinEpsilon, MaxEpsilon, nameof(Epsilon));
        Check.AtLeast(Samples, 1, nameof(Samples));
        Check.AtMost(Samples, MaxSamples, nameof(Samples));
        ArgumentNullException.ThrowIfNull(Noise, nameof(Noise));
        Check.Defined(Perturbation, nameof(Perturbation));
        Check.Defined(VarianceReduction, nameof(VarianceReduction));
        if (VarianceReduction == VarianceReduction.LeaveOneOut && Samples < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(Samples), Samples, $"Leave-one-out variance reduction needs '{nameof(Samples)}' ≥ 2, got {Samples}.");
        }
        if (Perturbation == PerturbationKind.Multiplicative && Noise is not NormalNoise)
        {
            throw new ArgumentException(
                $"Multiplicative perturbation needs normal noise (its mean-one correction exp(−ε²/2) is the normal one), got {Noise.Name}.", nameof(Noise));
        }
        Check.Parallelism(MaxDegreeOfParallelism, nameof(MaxDegreeOfParallelism));
    }

    /// <summary>A copy of the perturbation settings alone (what a <see cref="PerturbedOptimizer"/> built for a loss or operator gets).</summary>
    internal PerturbedOptimizerOptions PerturbationSettings() => new()
    {
        Epsilon = Epsilon, Samples = Samples, Noise = Noise, Perturbation = Perturbation, VarianceReduction = VarianceReduction,
        Seed = Seed, MaxDegreeOfParallelism = MaxDegreeOfParallelism,
    };
}
