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
}
