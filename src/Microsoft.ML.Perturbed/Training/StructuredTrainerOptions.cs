using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// Settings of the training loop (<see cref="StructuredTrainer"/>), on top of the loss settings it inherits; defined
/// and checked here once (<see cref="Validate"/>), for every backend.
/// </summary>
public sealed class StructuredTrainerOptions : StructuredLossOptions
{
    /// <summary>Default number of epochs.</summary>
    public const int DefaultNumberOfIterations = 50;

    /// <summary>Default mini-batch size.</summary>
    public const int DefaultBatchSize = 32;

    /// <summary>Default learning rate.</summary>
    public const double DefaultLearningRate = 0.01;

    /// <summary>Default early-stopping patience.</summary>
    public const int DefaultEarlyStoppingPatience = 5;

    /// <summary>The built-in loss; default the perturbed Fenchel-Young loss. Ignored when <see cref="LossFactory"/> is set.</summary>
    public StructuredLossKind Loss { get; set; } = StructuredLossKind.FenchelYoung;

    /// <summary>A user's loss over the head (null: the built-in <see cref="Loss"/>). Its score dimension must be the head's.</summary>
    public Func<Oracles.Oracle, StructuredLoss>? LossFactory { get; set; }

    /// <summary>The parameter update; default Adam.</summary>
    public GradientOptimizerKind Optimizer { get; set; } = GradientOptimizerKind.Adam;

    /// <summary>Learning rate η &gt; 0; default 0.01.</summary>
    public double LearningRate { get; set; } = DefaultLearningRate;

    /// <summary>Passes over the data; default 50.</summary>
    public int NumberOfIterations { get; set; } = DefaultNumberOfIterations;

    /// <summary>Rows per mini-batch; default 32.</summary>
    public int BatchSize { get; set; } = DefaultBatchSize;

    /// <summary>L2 regularization λ ≥ 0 on the weights (not the biases): adds λ·W to the gradient, on every backend. Default 0.</summary>
    public double L2Regularization { get; set; }

    /// <summary>With a validation set: stop after this many epochs without improvement and keep the best model. Default 5.</summary>
    public int EarlyStoppingPatience { get; set; } = DefaultEarlyStoppingPatience;

    /// <summary>Widths of the hidden layers of an MLP score model (ReLU between layers); empty (default) for the affine model of the papers.</summary>
    public IReadOnlyList<int> HiddenLayers { get; set; } = [];

    /// <summary>
    /// A score model of the user's to train instead of the affine model or MLP: called once per run with the number of
    /// features and of outputs the loss needs (the head's scores, plus extras such as direct loss's noise scale) and
    /// returning the initial model, for example an <see cref="ItemwiseModel"/>. Null (default): the built-in models.
    /// The managed CPU backend trains any <see cref="ITrainableModel"/>; the TorchSharp backend refuses one.
    /// </summary>
    public Func<int, int, ITrainableModel>? ModelFactory { get; set; }

    /// <summary>
    /// Standard deviation of the initial weights of the affine model (biases start at 0). Null (default): 0 for the
    /// losses that start well from zero (Fenchel-Young, squared, SPO+, direct loss, I-MLE, NCE, CMAP, pointwise and listwise
    /// LTR), 0.01 for blackbox and identity with projection, whose projected zero scores would have a zero Jacobian, for soft
    /// top-k, whose Sinkhorn ranks standardize each row (undefined for a constant one), and for pairwise LTR, whose gradient is
    /// 0 at zero scores. MLPs always start from TorchSharp's uniform
    /// ±1/√fan-in initialization.
    /// </summary>
    public double? InitialWeightScale { get; set; }

    /// <summary>
    /// The initial weight scale in force: <see cref="InitialWeightScale"/>, else the built-in loss's
    /// (<see cref="LossDescriptor.InitialWeightScale"/>), else 0 for a <see cref="LossFactory"/> loss.
    /// </summary>
    public double EffectiveInitialWeightScale => InitialWeightScale
        ?? (LossFactory is null ? StructuredLosses.Get(Loss).InitialWeightScale : 0.0);

    /// <summary>The loss these options train: <see cref="LossFactory"/>'s, or the built-in <see cref="Loss"/>.</summary>
    public StructuredLoss CreateLoss(Oracles.Oracle head)
    {
        ArgumentNullException.ThrowIfNull(head);
        StructuredLoss loss = LossFactory is null ? StructuredLoss.Create(head, Loss, this) : LossFactory(head)
            ?? throw new InvalidOperationException($"'{nameof(LossFactory)}' returned null.");
        if (loss.ScoreDimension != head.Dimension)
        {
            throw new ArgumentException($"The loss {loss.Name} scores {loss.ScoreDimension} values per row but the head {head.Name} takes {head.Dimension}.", nameof(head));
        }
        return loss;
    }

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        Check.Defined(Loss, nameof(Loss));
        Check.Defined(Optimizer, nameof(Optimizer));
        Check.FinitePositive(LearningRate, nameof(LearningRate));
        Check.FiniteNonNegative(L2Regularization, nameof(L2Regularization));
        Check.AtLeast(NumberOfIterations, 1, nameof(NumberOfIterations));
        Check.AtLeast(BatchSize, 1, nameof(BatchSize));
        Check.AtLeast(EarlyStoppingPatience, 1, nameof(EarlyStoppingPatience));
        ArgumentNullException.ThrowIfNull(HiddenLayers, nameof(HiddenLayers));
        for (int i = 0; i < HiddenLayers.Count; i++) Check.AtLeast(HiddenLayers[i], 1, $"{nameof(HiddenLayers)}[{i}]");
        if (InitialWeightScale is double s) Check.FiniteNonNegative(s, nameof(InitialWeightScale));
        if (ModelFactory is not null && HiddenLayers.Count > 0)
        {
            throw new ArgumentException($"'{nameof(ModelFactory)}' supplies the score model; leave '{nameof(HiddenLayers)}' empty.", nameof(HiddenLayers));
        }
    }

    /// <summary>A shallow copy (the ML.NET options hand the loop a copy with the resolved seed).</summary>
    internal StructuredTrainerOptions Clone() => (StructuredTrainerOptions)MemberwiseClone();
}
