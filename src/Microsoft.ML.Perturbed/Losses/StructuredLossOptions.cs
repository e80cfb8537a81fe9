using Microsoft.ML.Perturbed.Layers;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// Settings of the built-in losses (<see cref="StructuredLoss.Create"/>): the perturbation settings they inherit from
/// <see cref="PerturbedOptimizerOptions"/> (with M = 10 by default here) and the settings of the blackbox, identity,
/// direct, I-MLE and solution-pool losses; the trainer's options (<see cref="Training.StructuredTrainerOptions"/>) extend them, the ML.NET trainers'
/// options embed them.
/// </summary>
public class StructuredLossOptions : PerturbedOptimizerOptions
{
    /// <summary>Default M for training losses: 10 (M = 1 already gives an unbiased Fenchel-Young gradient; more samples
    /// lower its variance at proportional cost).</summary>
    public new const int DefaultSamples = 10;

    /// <summary>Default blackbox λ (relative to unit-norm scores under the default projection).</summary>
    public const double DefaultBlackboxLambda = 0.1;

    /// <summary>Creates the default loss settings: those of <see cref="PerturbedOptimizerOptions"/> with <see cref="DefaultSamples"/> samples.
    /// For <see cref="StructuredLossKind.DirectLoss"/>, |ε| is the size of the loss perturbation (taken "towards better").</summary>
    public StructuredLossOptions()
    {
        Samples = DefaultSamples;
    }

    /// <summary>
    /// Interpolation step λ in [1e-30, 1e30] of the blackbox loss (θ − λg, relative under its default projection) and of
    /// I-MLE (its target θ − λg, in the units of θ; PyEPO's <c>lambd</c>); default 0.1.
    /// </summary>
    public double BlackboxLambda { get; set; } = DefaultBlackboxLambda;

    /// <summary>
    /// Projections before the solver of the blackbox and identity losses (Sahoo et al. 2023, §3.4–3.5); default
    /// P_sphere ∘ P_plane, which makes them invariant to shifting and scaling θ. Other losses ignore it.
    /// </summary>
    public ScoreProjection Projection { get; set; } = ScoreProjection.PlaneThenSphere;

    /// <summary>
    /// The loss of ŷ that the blackbox, identity and I-MLE losses back-propagate; null (default): <see cref="TaskLoss.Linear"/>
    /// for blackbox (its interpolation θ + λy then moves towards the target), <see cref="TaskLoss.Squared"/> for identity and I-MLE.
    /// </summary>
    public TaskLoss? TaskLoss { get; set; }

    /// <summary>The task loss in force for <paramref name="kind"/> (its descriptor's default when <see cref="TaskLoss"/> is null).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a registered loss.</exception>
    public TaskLoss EffectiveTaskLoss(StructuredLossKind kind) => StructuredLosses.Get(kind).EffectiveTaskLoss(this);

    /// <summary>Margin noise α ≥ 0 added before the projections of the blackbox and identity losses; default 0 (none).</summary>
    public double Margin { get; set; }

    /// <summary>Default <see cref="SolveRatio"/>: 1, every step solves.</summary>
    public const double DefaultSolveRatio = 1;

    /// <summary>
    /// The losses over a solution pool (NCE, CMAP, pointwise, pairwise and listwise LTR; PyEPO's <c>solve_ratio</c>): the
    /// probability in (0, 1] that a training step calls the oracle on its rows' scores and adds the solutions to the pool;
    /// the other steps train on the pool alone. Default 1 (every step); PyEPO's examples use 0.05. Other losses ignore it.
    /// </summary>
    public double SolveRatio { get; set; } = DefaultSolveRatio;

    /// <summary>Checks every setting; the exception names the option and its value.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public override void Validate()
    {
        base.Validate();
        Layers.BlackboxLayer.CheckLambda(BlackboxLambda, nameof(BlackboxLambda));
        Check.Defined(Projection, nameof(Projection));
        Check.FiniteNonNegative(Margin, nameof(Margin));
        if (TaskLoss is { } t) Check.Defined(t, nameof(TaskLoss));
        PoolLoss.CheckSolveRatio(SolveRatio, nameof(SolveRatio));
    }
}
