using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// A loss L(θ; y) of a batch of model outputs θ against targets y, with its gradient ∂L/∂θ (docs/architecture.md,
/// "Losses"). The training loop (<see cref="StructuredTrainer"/>) takes any loss; the built-in ones are the
/// Fenchel-Young loss, a loss of any layer's output (<see cref="LayerLoss"/>: squared, or the user's own), SPO+ and direct
/// loss minimization with a learned noise scale.
/// </summary>
/// <remarks>
/// <see cref="Dimension"/> is the length of a row of θ, which may exceed the head's score count: direct loss
/// minimization reads one more output per row (the noise scale). <see cref="ScoreDimension"/> says how many leading
/// outputs are the head's scores; a trained predictor keeps only those.
/// </remarks>
public abstract class StructuredLoss
{
    /// <summary>Creates a loss over rows of <paramref name="dimension"/> outputs and <paramref name="targetDimension"/> target values.</summary>
    protected StructuredLoss(int dimension, int targetDimension)
    {
        Guard.Positive(dimension, nameof(dimension));
        Guard.Positive(targetDimension, nameof(targetDimension));
        Dimension = dimension;
        TargetDimension = targetDimension;
    }

    /// <summary>Length of a row of θ (the model's outputs).</summary>
    public int Dimension { get; }

    /// <summary>Length of a target row.</summary>
    public int TargetDimension { get; }

    /// <summary>
    /// Length of a target row in the loss's encoded form (<see cref="EncodeTargets"/>): what it computes once per target
    /// instead of at every evaluation — SPO+ stores y*(s) after the true costs s, 2d values. Default
    /// <see cref="TargetDimension"/>: no encoded form. <see cref="Evaluate"/> takes targets in either form, and the training
    /// loop encodes in-memory targets once per run.
    /// </summary>
    public virtual int EncodedTargetDimension => TargetDimension;

    /// <summary>
    /// Writes the encoded form of target rows (<see cref="EncodedTargetDimension"/> values each); evaluating on them gives
    /// the same bits as on the targets themselves.
    /// </summary>
    /// <param name="target">Targets, <c>[rows × TargetDimension]</c>, finite.</param>
    /// <param name="encoded">Destination, <c>[rows × EncodedTargetDimension]</c>.</param>
    /// <exception cref="ArgumentException">A length does not match, or a target is not finite (row and column named).</exception>
    public void EncodeTargets(ReadOnlySpan<float> target, Span<float> encoded)
    {
        int rows = Guard.RowCount(target.Length, TargetDimension, nameof(target));
        Guard.Rows(encoded.Length, rows, EncodedTargetDimension, nameof(encoded));
        Guard.Finite(target, TargetDimension, nameof(target));
        EncodeTargetsCore(target, encoded);
    }

    /// <summary>The encoding kernel; the buffers are checked. Default: a copy (a loss with an encoded form overrides it).</summary>
    protected virtual void EncodeTargetsCore(ReadOnlySpan<float> target, Span<float> encoded) => target.CopyTo(encoded);

    /// <summary>
    /// The length of a target row in <paramref name="length"/> values over <paramref name="batch"/> rows: <see cref="TargetDimension"/>,
    /// or <see cref="EncodedTargetDimension"/> for encoded targets; else an <see cref="ArgumentException"/> naming <paramref name="paramName"/>.
    /// </summary>
    internal int TargetWidth(int length, int batch, string paramName)
    {
        if (EncodedTargetDimension != TargetDimension && length == (long)batch * EncodedTargetDimension) return EncodedTargetDimension;
        if (length != (long)batch * TargetDimension && EncodedTargetDimension != TargetDimension)
        {
            throw new ArgumentException($"Expected {batch} target rows of {TargetDimension} values ({EncodedTargetDimension} when encoded), got {length} values.", paramName);
        }
        Guard.Rows(length, batch, TargetDimension, paramName);
        return TargetDimension;
    }

    /// <summary>
    /// Called by the training loop once per run, before the first step, with the training rows (targets in the form the
    /// steps will see them: encoded when <see cref="EncodedTargetDimension"/> differs). Default: nothing. The losses over a
    /// solution pool empty their pool and seed it with every target's solution (one unshuffled pass over the rows).
    /// </summary>
    internal virtual void BeginTraining(Data.TrainingSource training)
    {
    }

    /// <summary>How many leading outputs of a row are the head's scores (default all of them).</summary>
    public virtual int ScoreDimension => Dimension;

    /// <summary>A short description used in messages.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The loss as a device backend knows it (Fenchel-Young or squared losses of a perturbed optimizer, the squared loss of
    /// the scores), or null (default): a device backend runs this loss on the host. Internal: a user's loss runs on the host.
    /// </summary>
    internal virtual DeviceLossForm? DeviceForm => null;

    /// <summary>
    /// Whether the value is one number for the whole batch rather than one per row (the least-quantile loss): every row
    /// then reports the batch's value and row r's gradient is b·∂L/∂θᵣ, so that the mean the training loop forms is the
    /// batch's value and its gradient the value's. The training loop refuses example weights for such a loss and reads a
    /// validation set in chunks of <see cref="StructuredTrainer.ValidationChunkRows"/> rows. Default false.
    /// </summary>
    internal virtual bool IsBatchLoss => false;

    /// <summary>
    /// Evaluates every row: writes its loss value into <paramref name="loss"/> and ∂L/∂θ into <paramref name="gradient"/>;
    /// returns the mean over rows (accumulated in double). What the value means is the loss's to document (the
    /// Fenchel-Young value, for one, is the loss up to a constant in θ).
    /// </summary>
    /// <param name="theta">Outputs θ, <c>[batch × Dimension]</c>, finite.</param>
    /// <param name="target">Targets, <c>[batch × TargetDimension]</c> or encoded (<see cref="EncodeTargets"/>) <c>[batch × EncodedTargetDimension]</c>, finite.</param>
    /// <param name="loss">Destination for the value of each row.</param>
    /// <param name="gradient">Destination for ∂L/∂θ, <c>[batch × Dimension]</c>.</param>
    /// <param name="draw">Index of the noise draw (a training loop passes its step).</param>
    public double Evaluate(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient, ulong draw = 0)
    {
        int batch = Guard.RowCount(theta.Length, Dimension, nameof(theta));
        int width = TargetWidth(target.Length, batch, nameof(target));
        Guard.Length(loss.Length, batch, nameof(loss), "one value per row");
        Guard.Rows(gradient.Length, batch, Dimension, nameof(gradient));
        Guard.Finite(theta, Dimension, nameof(theta));
        Guard.Finite(target, width, nameof(target));
        EvaluateCore(theta, target, loss, gradient, draw);
        double total = 0;
        foreach (float v in loss) total += v;
        return total / batch;
    }

    /// <summary>
    /// The loss's kernel; the buffers are checked. <paramref name="target"/> holds <c>target.Length / loss.Length</c> values
    /// per row: <see cref="TargetDimension"/>, or <see cref="EncodedTargetDimension"/> for encoded targets.
    /// </summary>
    protected abstract void EvaluateCore(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient, ulong draw);

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>
    /// The built-in loss <paramref name="kind"/> over <paramref name="oracle"/> with the settings of <paramref name="options"/>:
    /// its descriptor's factory (<see cref="StructuredLosses.Get"/>; an unknown kind throws naming <paramref name="kind"/>).
    /// </summary>
    /// <param name="oracle">The prediction oracle.</param>
    /// <param name="kind">The loss.</param>
    /// <param name="options">ε, M, noise, seed, λ, projection, margin; defaults when null.</param>
    public static StructuredLoss Create(Oracle oracle, StructuredLossKind kind, StructuredLossOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        options ??= new StructuredLossOptions();
        options.Validate();
        return StructuredLosses.Get(kind).Create(oracle, options);
    }

    /// <summary>
    /// The perturbed Fenchel-Young loss L_ε(θ; y) = F_ε(θ) + εΩ(y) − ⟨θ, y⟩ (Berthet et al. 2020, §4): convex in θ,
    /// non-negative, zero iff ŷ_ε(θ) = y, with gradient ∇_θ L = y*_ε(θ) − y (additive perturbation; multiplicative: see the
    /// remarks). The gradient needs no Jacobian, so one forward pass of M solves per row gives it, and M = 1 already gives an
    /// unbiased stochastic gradient.
    /// </summary>
    /// <remarks>
    /// Ω (the Fenchel conjugate of F_ε, scaled) has no closed form in general. The <b>value</b> reported is therefore
    /// F̂_ε(θ) − ⟨θ, y⟩, which equals L_ε(θ; y) up to the constant εΩ(y): it does not depend on θ, so it is the right
    /// quantity to monitor and compare across θ for a fixed target, but it is not the loss itself and can be negative.
    /// <para>Under multiplicative perturbation (η = θ ⊙ exp(εZ − ε²/2), positive θ: the costs of a cost head), F_ε(θ) =
    /// E[max_y ⟨y, η⟩] is convex and 1-homogeneous in θ, and the gradient is ∇F_ε(θ) − y with ∇F_ε(θ) = E[y*(η) ⊙ exp(εZ − ε²/2)]
    /// — each sample's solution weighted by its own noise factor (as in InferOpt.jl), not ŷ_ε(θ). Its estimate at a draw is the
    /// exact gradient of the value reported there, ⟨∇F̂ − y, θ⟩ (F̂ = ⟨∇F̂, θ⟩ exactly). Non-positive scores are refused.</para>
    /// </remarks>
    /// <param name="optimizer">A perturbed optimizer (additive or multiplicative) whose oracle maps scores to the same space.</param>
    /// <exception cref="ArgumentException">The oracle's output dimension differs from its input dimension.</exception>
    public static StructuredLoss FenchelYoung(PerturbedOptimizer optimizer) => new FenchelYoungLoss(optimizer);

    /// <summary>
    /// ℓ(layer(θ), y) for any layer and any row loss ℓ, back-propagated through the layer's VJP: squared loss of the
    /// perturbed optimizer (the papers' "perturbed + squared"), of blackbox interpolation, of identity with projection, of θ
    /// itself (the scores layer), or the user's own loss of ŷ. A perturbed layer reuses its forward samples
    /// (no second solve).
    /// </summary>
    /// <param name="layer">The layer θ → ŷ.</param>
    /// <param name="rowLoss">ℓ(ŷ, y) and ∂ℓ/∂ŷ for one row; thread-safe (rows are evaluated concurrently).</param>
    /// <param name="name">Name of ℓ in messages; default "UserLoss".</param>
    /// <param name="targetDimension">Length of a target row; default (null) the layer's output length.</param>
    public static StructuredLoss OfLayer(Layer layer, RowLoss rowLoss, string name = "UserLoss", int? targetDimension = null) =>
        new LayerLoss(layer, rowLoss, name, targetDimension);

    /// <summary>½‖layer(θ) − y‖² (<see cref="OfLayer"/> with the squared row loss): the papers' "perturbed + squared" for a perturbed optimizer.</summary>
    /// <param name="layer">The layer θ → ŷ.</param>
    public static StructuredLoss Squared(Layer layer) => new LayerLoss(layer, RowLosses.Squared, "Squared");

    /// <summary>
    /// Least-quantile regression (Cuturi, Teboul &amp; Vert 2019, §5): the soft τ-quantile of the absolute residuals
    /// |θᵣ − zᵣ| of a mini-batch, for a model with one output θ and targets the responses z — a robust regression that
    /// fits the best (1 − τ) share of the rows and ignores the rest (τ = 0.5: least-median regression). A batch-level loss:
    /// every row reports the batch's quantile q and its gradient is b·∂q/∂θᵣ (the training loop's mean over rows is q), so a
    /// row depends on its batch, example weights are refused, and a validation set is scored in chunks of
    /// <see cref="StructuredTrainer.ValidationChunkRows"/> rows (the mean of the chunks' quantiles). Train it with
    /// <see cref="StructuredTrainerOptions.LossFactory"/> = <c>_ =&gt; StructuredLoss.LeastQuantile(options)</c> over a
    /// one-output head such as <c>Oracle.Create(1, 1, (θ, y) =&gt; θ.CopyTo(y), "Regression")</c>, or in ML.NET with
    /// <c>mlContext.StructuredPrediction().Trainers.LeastQuantileRegression</c>.
    /// </summary>
    /// <param name="options">Reads <see cref="StructuredLossOptions.QuantileLevel"/> (τ, default 0.5),
    /// <see cref="StructuredLossOptions.QuantileWidth"/> (t, default 1/b), <see cref="StructuredLossOptions.SoftRankMethod"/>
    /// (default Sinkhorn's quantile operator; or the permutahedron soft sort) and <see cref="PerturbedOptimizerOptions.Epsilon"/>
    /// (its ε; Sinkhorn ≥ 1e-6 on squashed residuals, about 1e-3 to 1e-2 is sharp; the default 1 is very smooth); defaults when null.
    /// A Sinkhorn batch holds at most 33,551 rows.</param>
    /// <exception cref="ArgumentException">A setting is out of range, or the method is <see cref="Sorting.SoftRankingMethod.Perturbed"/> (each named).</exception>
    public static StructuredLoss LeastQuantile(StructuredLossOptions? options = null)
    {
        options ??= new StructuredLossOptions();
        options.Validate();
        SoftTopKLoss.RankOptions(options, Sorting.SortDirection.Ascending);   // the method and its ε, checked as for soft top-k
        return new LeastQuantileLoss(options.QuantileLevel, options.QuantileWidth, options.SoftRankMethod, options.Epsilon);
    }
}
