using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// Settings of the built-in losses (<see cref="StructuredLoss.Create"/>): the perturbation settings they inherit from
/// <see cref="PerturbedOptimizerOptions"/> (with M = 10 by default here) and the settings of the blackbox, identity,
/// direct, I-MLE, soft top-k, least-quantile and solution-pool losses; the trainer's options (<see cref="Training.StructuredTrainerOptions"/>) extend them, the ML.NET trainers'
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

    /// <summary>Default <see cref="QuantileLevel"/>: 0.5 (least-median regression).</summary>
    public const double DefaultQuantileLevel = 0.5;

    /// <summary>
    /// k of the soft top-k loss (<see cref="StructuredLossKind.SoftTopK"/>, J_k(u) = max(0, u − k + 1)): the loss is 0 once the
    /// target class ranks among the k best. At least 1, and at most the head's dimension (checked when the loss is built
    /// over a head); default 1. Other losses ignore it.
    /// </summary>
    public int SoftTopK { get; set; } = 1;

    /// <summary>
    /// The soft ranks and sorts of the soft top-k loss (<see cref="StructuredLossKind.SoftTopK"/>) and of the least-quantile
    /// regression loss (<see cref="StructuredLoss.LeastQuantile"/>): <see cref="SoftRankingMethod.Sinkhorn"/> (default, Cuturi
    /// et al. 2019: entropic transport of the squashed row, whose ε is on the [0, 1] scale — about 1e-3 to 1e-2 is sharp,
    /// the paper's runs use 1e-3; ε ≥ 1e-6), or the permutahedron projections <see cref="SoftRankingMethod.PermutahedronL2"/> and
    /// <see cref="SoftRankingMethod.PermutahedronKL"/> (Blondel et al. 2020: ε on the scale of the scores, ε = 1 is sharp for
    /// scores a unit apart). The strength is <see cref="PerturbedOptimizerOptions.Epsilon"/>. <see cref="SoftRankingMethod.Perturbed"/>
    /// is refused by these losses (their gradients are exact). Other losses ignore it.
    /// </summary>
    public SoftRankingMethod SoftRankMethod { get; set; } = SoftRankingMethod.Sinkhorn;

    /// <summary>
    /// The level τ ∈ (0, 1) of the least-quantile regression loss (<see cref="StructuredLoss.LeastQuantile"/>): the soft
    /// τ-quantile of the absolute residuals of a mini-batch is minimized. Default 0.5 (least-median regression); the paper
    /// also reports 0.9. Other losses ignore it.
    /// </summary>
    public double QuantileLevel { get; set; } = DefaultQuantileLevel;

    /// <summary>
    /// The width t ∈ (0, 1] of the window [τ − t/2, τ + t/2] of the residuals' distribution whose mean the least-quantile loss
    /// reads (Sinkhorn's middle target weight); null (default): 1/b for a batch of b residuals, one residual's share (the
    /// paper's t = 1/512 at batch size 512). A window that does not fit in [0, 1] at this τ is narrowed to fit (a batch of
    /// one residual gives that residual). Other losses ignore it.
    /// </summary>
    public double? QuantileWidth { get; set; }
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
        Check.AtLeast(SoftTopK, 1, nameof(SoftTopK));
        Check.Defined(SoftRankMethod, nameof(SoftRankMethod));
        if (!(QuantileLevel > 0 && QuantileLevel < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(QuantileLevel), QuantileLevel, $"'{nameof(QuantileLevel)}' τ must lie in (0, 1), got {QuantileLevel}.");
        }
        if (QuantileWidth is double width && !(width > 0 && width <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(QuantileWidth), width, $"'{nameof(QuantileWidth)}' t must lie in (0, 1] (null: one residual's share, 1/b), got {width}.");
        }
        PoolLoss.CheckSolveRatio(SolveRatio, nameof(SolveRatio));
    }
}
