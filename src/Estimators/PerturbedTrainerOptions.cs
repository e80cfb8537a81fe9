using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.Perturbed.Estimators;

/// <summary>
/// Options shared by the perturbed trainers (label ranking, multiclass, top-k, matching). The training settings are the
/// core trainer's (<see cref="StructuredTrainerOptions"/>, embedded: same names, defaults and checks, defined there once);
/// these options add what ML.NET needs (columns, data loading, the MLContext's seed, backend, progress). The
/// hyper-parameters a sweep tunes (ε, learning rate, L2, M) carry <c>Microsoft.ML.SearchSpace</c> ranges — ε, the learning
/// rate and M on a log scale — so AutoML can sweep them where it is installed.
/// </summary>
public abstract class PerturbedTrainerOptions
{
    /// <summary>The core trainer's settings these options forward to (their defaults are the core's).</summary>
    private readonly StructuredTrainerOptions _core = new();

    /// <summary>Label column; default "Label".</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>Features column: a known-size vector of Single; default "Features".</summary>
    public string FeatureColumnName { get; set; } = "Features";

    /// <summary>Optional example-weight column (Single, finite, ≥ 0): training minimizes Σ wᵣLᵣ / Σ wᵣ. Default null (equal weights).</summary>
    public string? ExampleWeightColumnName { get; set; }

    /// <summary>
    /// The loss; default perturbed Fenchel-Young. Also: perturbed + squared, squared on scores, blackbox interpolation,
    /// identity with projection, SPO+ (the label is then the true score vector), direct loss minimization with a
    /// learned noise scale, I-MLE, the soft top-k loss, and the losses over a solution pool: NCE, CMAP (labels: solutions),
    /// pointwise, pairwise and listwise LTR (labels: true costs) (see <see cref="StructuredLossKind"/>). The least-quantile
    /// regression trainer does not read it (it trains its own loss).
    /// </summary>
    public StructuredLossKind Loss { get => _core.Loss; set => _core.Loss = value; }

    /// <summary>
    /// Noise scale ε &gt; 0; default 1. Swept on a log scale. Under the defaults (zero initial weights, no L2, Adam) ε and
    /// the learning rate are one knob: (ε, η) trains the same predictions as (1, η/ε), because the perturbed solution of
    /// θ at ε is that of θ/ε at 1 and Adam's steps do not depend on the gradient's scale. Sweep one of them (e.g.
    /// <c>SweepSettings.Parameters = ["Epsilon"]</c>); with L2, an MLP or blackbox/identity losses (scale-free projections)
    /// they separate. The soft top-k loss and least-quantile regression read it as the strength of their soft ranks or
    /// quantiles (see <see cref="SoftRankMethod"/>; Sinkhorn is sharp near 0.01, the paper's top-k runs use 1e-3).
    /// </summary>
    [Range(1e-3, 10.0, 1.0, true)]
    public double Epsilon { get => _core.Epsilon; set => _core.Epsilon = value; }

    /// <summary>Noise samples M per row and step; default 10 (M = 1 already gives an unbiased Fenchel-Young gradient).</summary>
    [Range(1, 100, 10, true)]
    public int Samples { get => _core.Samples; set => _core.Samples = value; }

    /// <summary>Learning rate η &gt; 0; default 0.01. Swept on a log scale (see <see cref="Epsilon"/> for why sweeping both under the defaults wastes trials).</summary>
    [Range(1e-4, 1.0, 1e-2, true)]
    public double LearningRate { get => _core.LearningRate; set => _core.LearningRate = value; }

    /// <summary>L2 regularization λ ≥ 0 of the weights (not the biases): adds λ·W to the gradient; default 0.</summary>
    [Range(0.0, 1.0, 0.0, false)]
    public double L2Regularization { get => _core.L2Regularization; set => _core.L2Regularization = value; }

    /// <summary>The gradient optimizer: SGD, Adam (default) or AdaGrad (one accumulator per weight instead of Adam's two, and exactly lazy on sparse rows: the choice for wide text features when memory counts; use a learning rate near 0.1).</summary>
    public GradientOptimizerKind Optimizer { get => _core.Optimizer; set => _core.Optimizer = value; }

    /// <summary>Passes over the data (epochs); default 50.</summary>
    public int NumberOfIterations { get => _core.NumberOfIterations; set => _core.NumberOfIterations = value; }

    /// <summary>Rows per mini-batch; default 32.</summary>
    public int BatchSize { get => _core.BatchSize; set => _core.BatchSize = value; }

    /// <summary>Blackbox and I-MLE losses: interpolation step λ in [1e-30, 1e30] (blackbox: relative to unit-norm scores under the default projection; I-MLE: in the units of the scores); default 0.1.</summary>
    public double BlackboxLambda { get => _core.BlackboxLambda; set => _core.BlackboxLambda = value; }

    /// <summary>Blackbox and identity losses: projections of the scores before the solver; default P_sphere ∘ P_plane.</summary>
    public ScoreProjection Projection { get => _core.Projection; set => _core.Projection = value; }

    /// <summary>
    /// Blackbox, identity and I-MLE losses: the loss of ŷ they back-propagate; null (default): linear −⟨ŷ, y⟩ for blackbox,
    /// squared ½‖ŷ − y‖² for identity and I-MLE (equal on the solutions up to a constant; see <see cref="Losses.TaskLoss"/>).
    /// </summary>
    public TaskLoss? TaskLoss { get => _core.TaskLoss; set => _core.TaskLoss = value; }

    /// <summary>Blackbox and identity losses: margin noise α ≥ 0 before the projections; default 0.</summary>
    public double Margin { get => _core.Margin; set => _core.Margin = value; }

    /// <summary>
    /// Soft top-k loss (<see cref="StructuredLossKind.SoftTopK"/>): k, at least 1 and at most the number of classes (scores);
    /// the loss is 0 once the label ranks among the k best. Default 1.
    /// </summary>
    public int SoftTopK { get => _core.SoftTopK; set => _core.SoftTopK = value; }

    /// <summary>
    /// Soft top-k loss and least-quantile regression: how ranks and quantiles are smoothed, with strength <see cref="Epsilon"/>;
    /// default <see cref="Perturbed.Sorting.SoftRankingMethod.Sinkhorn"/> (Cuturi et al. 2019; ε on squashed values in [0, 1], about
    /// 1e-3 to 1e-2 is sharp, ≥ 1e-6), or the permutahedron projections (ε on the scale of the scores). The perturbed method
    /// is refused.
    /// </summary>
    public Perturbed.Sorting.SoftRankingMethod SoftRankMethod { get => _core.SoftRankMethod; set => _core.SoftRankMethod = value; }

    /// <summary>Least-quantile regression: the level τ ∈ (0, 1) of the quantile of the absolute residuals minimized; default 0.5 (least-median).</summary>
    public double QuantileLevel { get => _core.QuantileLevel; set => _core.QuantileLevel = value; }

    /// <summary>
    /// Least-quantile regression: the width t ∈ (0, 1] of the window of the residuals' distribution around τ whose mean is
    /// minimized; null (default): one residual's share of the mini-batch, 1/<see cref="BatchSize"/>.
    /// </summary>
    public double? QuantileWidth { get => _core.QuantileWidth; set => _core.QuantileWidth = value; }

    /// <summary>
    /// Standard deviation of the initial weights; null (default): 0 for Fenchel-Young, squared, SPO+, direct loss, I-MLE, NCE,
    /// CMAP, pointwise and listwise LTR, 0.01 for blackbox, identity with projection, soft top-k and pairwise LTR.
    /// </summary>
    public double? InitialWeightScale { get => _core.InitialWeightScale; set => _core.InitialWeightScale = value; }

    /// <summary>
    /// Losses over a solution pool (NCE, CMAP, pointwise, pairwise and listwise LTR): the probability in (0, 1] that a training
    /// step calls the solver and adds its solutions to the pool (PyEPO's <c>solve_ratio</c>); default 1 (every step).
    /// </summary>
    public double SolveRatio { get => _core.SolveRatio; set => _core.SolveRatio = value; }

    /// <summary>
    /// Share of the training rows (0 ≤ f &lt; 1) held out, by a seeded shuffle, as the validation set for early stopping when
    /// <c>Fit</c> gets no validation data — early stopping from inside a pipeline. Default 0 (train on every row, no early
    /// stopping). The log (and <see cref="Progress"/>) reports when early stopping fires and the epoch whose model is kept.
    /// </summary>
    public double ValidationFraction { get; set; }

    /// <summary>With validation data: epochs without improvement before stopping (the best model is kept); default 5.</summary>
    public int EarlyStoppingPatience { get => _core.EarlyStoppingPatience; set => _core.EarlyStoppingPatience = value; }

    /// <summary>
    /// How the training data is read (docs/architecture.md, "Data sources"): <see cref="TrainingDataLoading.Auto"/> (default)
    /// holds rows in memory up to <see cref="InMemoryBudgetMegabytes"/> and streams them beyond; sparse feature vectors
    /// (FeaturizeText, one-hot and hashing output) stay sparse either way, and the affine model trains on them sparse.
    /// </summary>
    public TrainingDataLoading DataLoading { get; set; } = TrainingDataLoading.Auto;

    /// <summary>With <see cref="TrainingDataLoading.Auto"/>: the most memory the rows' features may take in memory before they are streamed instead (4 bytes a dense value, 8 a sparse one); default 256.</summary>
    public int InMemoryBudgetMegabytes { get; set; } = DefaultInMemoryBudgetMegabytes;

    /// <summary>Default <see cref="InMemoryBudgetMegabytes"/>.</summary>
    public const int DefaultInMemoryBudgetMegabytes = 256;

    /// <summary>
    /// Streamed data: rows in the shuffle pool (≥ 1; 1 keeps the data view's order). Each epoch draws its rows at random from
    /// a pool that the stream refills, seeded like the rest of training; default 4096.
    /// </summary>
    public int ShufflePoolSize { get; set; } = Perturbed.Data.TrainingSource.DefaultShufflePoolSize;

    /// <summary>
    /// Whether a training row with a missing value — NaN or ±∞ in the features, the label or the weight, or a key label of 0 —
    /// fails training (naming the column, row and slot) instead of being skipped. Default false: such rows are skipped and
    /// their number is logged, as ML.NET's trainers do. Other bad labels (not a ranking, a wrong size) always throw.
    /// </summary>
    public bool ThrowOnMissingValues { get; set; }

    /// <summary>Seed; null (default) uses the MLContext's random source, so <c>new MLContext(seed: …)</c> makes training repeatable.</summary>
    public int? Seed { get; set; }

    /// <summary>
    /// Where training runs: null (default) for the managed CPU trainer of an affine model, or another backend such as
    /// <c>TorchTrainingBackend</c> (Microsoft.ML.Perturbed.TorchSharp: GPU, MLP score models). Models score in managed
    /// code either way. Not saved with the model.
    /// </summary>
    public IStructuredTrainingBackend? Backend { get; set; }

    /// <summary>
    /// Receives each epoch's losses as training goes (<see cref="TrainingProgress"/>: the epoch, the mean training loss,
    /// the validation loss — NaN without validation data — the epoch whose model is kept so far, and whether early
    /// stopping ends training after it); <c>Report</c> is called on the thread that runs <c>Fit</c> (a <see cref="System.Progress{T}"/> posts it on), and the same lines go to the MLContext's log.
    /// Default null. Not saved with the model.
    /// </summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Noise law of the perturbation (saved with the model); default normal (Gumbel for the multiclass trainer, where Fenchel-Young is then the softmax cross-entropy's).</summary>
    public NoiseDistribution Noise { get => _core.Noise; set => _core.Noise = value; }

    /// <summary>The noise training uses (and a saved model records).</summary>
    internal NoiseDistribution TrainingNoise => Noise;

    /// <summary>Checks every option: ML.NET's own here, the training settings by the core's checks (one mechanism, the same names).</summary>
    internal void Validate(int seed)
    {
        Check.Defined(DataLoading, nameof(DataLoading));
        Check.AtLeast(InMemoryBudgetMegabytes, 0, nameof(InMemoryBudgetMegabytes));
        Check.AtLeast(ShufflePoolSize, 1, nameof(ShufflePoolSize));
        ToTrainerOptions(seed).Validate();
    }

    /// <summary>The core trainer's settings for these options and a resolved seed (checked there, once).</summary>
    internal StructuredTrainerOptions ToTrainerOptions(int seed)
    {
        StructuredTrainerOptions options = _core.Clone();
        options.Seed = seed;
        return options;
    }

    /// <summary>
    /// Trains through the one training loop on the chosen backend: the loss the head trains with
    /// (<see cref="Heads.PerturbedHead.TrainingLoss"/>: the regression head's least-quantile loss), else the options' <see cref="Loss"/>.
    /// </summary>
    internal IScoreModel Fit(Heads.PerturbedHead head, Perturbed.Data.TrainingSource training, Perturbed.Data.TrainingSource? validation, int seed, Data.TrainingRun run)
    {
        StructuredTrainerOptions options = ToTrainerOptions(seed);
        if (head.TrainingLoss(options) is { } loss) options.LossFactory = _ => loss;
        return StructuredTrainer.Fit(head.CreateOracle(), training, options, validation, run.Progress, run.Token, Backend);
    }
}
