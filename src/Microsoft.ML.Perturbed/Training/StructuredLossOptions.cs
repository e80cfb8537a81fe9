using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Noise;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// Settings of the built-in losses (<see cref="StructuredLoss.Create"/>, <see cref="StructuredLosses"/>), defined and checked here once; the trainer's
/// options (<see cref="StructuredTrainerOptions"/>) and the ML.NET trainers' options extend or map onto them.
/// </summary>
public class StructuredLossOptions
{
    /// <summary>Default ε.</summary>
    public const double DefaultEpsilon = 1.0;

    /// <summary>Default M.</summary>
    public const int DefaultSamples = 10;

    /// <summary>Default blackbox λ (relative to unit-norm scores under the default projection).</summary>
    public const double DefaultBlackboxLambda = 0.1;

    /// <summary>
    /// Noise scale ε &gt; 0 of the perturbed losses; for <see cref="StructuredLossKind.DirectLoss"/>, |ε| is the size of the
    /// loss perturbation (taken "towards better", ε &lt; 0). Default 1.
    /// </summary>
    public double Epsilon { get; set; } = DefaultEpsilon;

    /// <summary>
    /// Noise samples M per row and step. Default 10: M = 1 already gives an unbiased Fenchel-Young gradient, more samples
    /// lower its variance at proportional cost.
    /// </summary>
    public int Samples { get; set; } = DefaultSamples;

    /// <summary>Noise law of the perturbed losses; default normal.</summary>
    public NoiseDistribution Noise { get; set; } = NoiseDistribution.Normal;

    /// <summary>Blackbox interpolation step λ in [1e-30, 1e30]; default 0.1.</summary>
    public double BlackboxLambda { get; set; } = DefaultBlackboxLambda;

    /// <summary>
    /// Projections before the solver of the blackbox and identity losses (Sahoo et al. 2023, §3.4–3.5); default
    /// P_sphere ∘ P_plane, which makes them invariant to shifting and scaling θ. Other losses ignore it.
    /// </summary>
    public ScoreProjection Projection { get; set; } = ScoreProjection.PlaneThenSphere;

    /// <summary>
    /// The loss of ŷ that the blackbox and identity losses back-propagate; null (default): <see cref="TaskLoss.Linear"/>
    /// for blackbox (its interpolation θ + λy then moves towards the target), <see cref="TaskLoss.Squared"/> for identity.
    /// </summary>
    public TaskLoss? TaskLoss { get; set; }

    /// <summary>The task loss in force for <paramref name="kind"/> (its descriptor's default when <see cref="TaskLoss"/> is null).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a registered loss.</exception>
    public TaskLoss EffectiveTaskLoss(StructuredLossKind kind) => StructuredLosses.Get(kind).EffectiveTaskLoss(this);

    /// <summary>Margin noise α ≥ 0 added before the projections of the blackbox and identity losses; default 0 (none).</summary>
    public double Margin { get; set; }

    /// <summary>Seed of the noise; the same seed gives the same results, bit for bit.</summary>
    public int Seed { get; set; }

    /// <summary>Most threads per call; −1 (default) uses every core. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; set; } = -1;

    /// <summary>The perturbed optimizer settings of these options.</summary>
    internal PerturbedOptimizerOptions Perturbation() => new()
    {
        Epsilon = Epsilon, Samples = Samples, Noise = Noise, Seed = Seed, MaxDegreeOfParallelism = MaxDegreeOfParallelism,
    };

    /// <summary>Checks every setting; the message names the option and its value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public virtual void Validate()
    {
        ArgumentNullException.ThrowIfNull(Noise, nameof(Noise));
        Check.FinitePositive(Epsilon, nameof(Epsilon));
        Check.AtLeast(Samples, 1, nameof(Samples));
        Check.AtMost(Samples, PerturbedOptimizerOptions.MaxSamples, nameof(Samples));
        Layers.BlackboxLayer.CheckLambda(BlackboxLambda, nameof(BlackboxLambda));
        Check.Defined(Projection, nameof(Projection));
        Check.FiniteNonNegative(Margin, nameof(Margin));
        if (TaskLoss is { } t) Check.Defined(t, nameof(TaskLoss));
        if (MaxDegreeOfParallelism == 0 || MaxDegreeOfParallelism < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, $"'{nameof(MaxDegreeOfParallelism)}' must be −1 (all cores) or at least 1.");
        }
    }
}

/// <summary>Option checks with messages that name the option and its value (one wording everywhere).</summary>
internal static class Check
{
    public static void FinitePositive(double value, string name)
    {
        if (!(value > 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be a finite number greater than 0, got {value}.");
    }

    public static void FiniteNonNegative(double value, string name)
    {
        if (!(value >= 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be a finite number ≥ 0, got {value}.");
    }

    public static void AtLeast(int value, int min, string name)
    {
        if (value < min) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be at least {min}, got {value}.");
    }

    public static void AtMost(int value, int max, string name)
    {
        if (value > max) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be at most {max}, got {value}.");
    }

    public static void Defined<T>(T value, string name) where T : struct, Enum
    {
        if (!Enum.IsDefined(value)) throw new ArgumentOutOfRangeException(name, value, $"Unknown {typeof(T).Name} value {value} for '{name}'.");
    }
}
