using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// What the library needs to know about a built-in loss, in one place (docs/architecture.md, "Losses"): its kind and
/// name, the targets it trains on, what its gradient is, the task loss its surrogate back-propagates by default, the
/// scale of the initial weights it starts from, and how to build it over a head. One descriptor per
/// <see cref="StructuredLossKind"/>, registered in <see cref="StructuredLosses"/>; the trainers, the ML.NET glue and the
/// loss contract read it instead of switching on the kind.
/// </summary>
internal sealed class LossDescriptor
{
    private readonly LossBuilder _create;

    internal LossDescriptor(StructuredLossKind kind, string name, LabelKind targets, LossGradientKind gradient, LossBuilder create,
        TaskLoss defaultTaskLoss = TaskLoss.Squared, double initialWeightScale = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        Check.Defined(targets, nameof(targets));
        Check.Defined(gradient, nameof(gradient));
        Check.Defined(defaultTaskLoss, nameof(defaultTaskLoss));
        Check.FiniteNonNegative(initialWeightScale, nameof(initialWeightScale));
        Kind = kind;
        Name = name;
        Targets = targets;
        Gradient = gradient;
        DefaultTaskLoss = defaultTaskLoss;
        InitialWeightScale = initialWeightScale;
        _create = create;
    }

    /// <summary>The kind this descriptor describes (the value saved in options and model files).</summary>
    public StructuredLossKind Kind { get; }

    /// <summary>A readable name, such as <c>"Fenchel-Young"</c> or <c>"SPO+"</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// What a target row must hold: solutions of the head (<see cref="LabelKind.Solution"/>, every loss but SPO+ and the
    /// learning-to-rank losses) or the true costs of the instance (<see cref="LabelKind.Costs"/>, SPO+ and pointwise, pairwise
    /// and listwise LTR).
    /// </summary>
    public LabelKind Targets { get; }

    /// <summary>What the loss's gradient is relative to its value (exact, Monte-Carlo estimate, or surrogate).</summary>
    public LossGradientKind Gradient { get; }

    /// <summary>
    /// The loss of ŷ back-propagated when <see cref="StructuredLossOptions.TaskLoss"/> is null: <see cref="TaskLoss.Linear"/> for
    /// blackbox, <see cref="TaskLoss.Squared"/> for the others (blackbox, identity with projection and I-MLE read it).
    /// </summary>
    public TaskLoss DefaultTaskLoss { get; }

    /// <summary>
    /// Standard deviation of the affine model's initial weights when <see cref="StructuredTrainerOptions.InitialWeightScale"/>
    /// is null: 0 for the losses that start well from zero scores, 0.01 for blackbox and identity with projection, whose
    /// projected zero scores have a zero Jacobian, and for soft top-k (Sinkhorn standardizes each row of scores, which a
    /// constant row leaves undefined), and for pairwise LTR, whose gradient is 0 at zero scores.
    /// </summary>
    public double InitialWeightScale { get; }

    /// <summary>The task loss in force under <paramref name="options"/>: its <see cref="StructuredLossOptions.TaskLoss"/>, else <see cref="DefaultTaskLoss"/>.</summary>
    public TaskLoss EffectiveTaskLoss(StructuredLossOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.TaskLoss ?? DefaultTaskLoss;
    }

    /// <summary>The loss over <paramref name="head"/> with the settings of <paramref name="options"/> (checked first; defaults when null).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="head"/> is null.</exception>
    /// <exception cref="ArgumentException">A setting is out of range, or the head does not suit the loss (the message says why).</exception>
    public StructuredLoss Create(Oracle head, StructuredLossOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(head);
        options ??= new StructuredLossOptions();
        options.Validate();
        return _create(head, options, EffectiveTaskLoss(options));
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Kind})";
}
