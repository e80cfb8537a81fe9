using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Losses;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// Where the steps of training run: the managed CPU step (<see cref="CpuTrainingBackend"/>, the default) or another
/// backend, such as the TorchSharp one (GPU) in Microsoft.ML.Perturbed.TorchSharp. A backend supplies only the step — the
/// loop itself (epochs, shuffles, seeds, early stopping, progress, divergence checks) is <see cref="StructuredTrainer"/>'s,
/// written once. Whatever the backend, the result is a managed <see cref="IScoreModel"/>, so saved models score without it.
/// </summary>
public interface IStructuredTrainingBackend
{
    /// <summary>Starts a session that fits a model of <paramref name="featureCount"/> inputs and <c>loss.Dimension</c> outputs.</summary>
    /// <param name="head">The prediction head (a backend may run it on its device).</param>
    /// <param name="loss">The loss to minimize (a backend may use its own device version of the same loss).</param>
    /// <param name="featureCount">Number p of features.</param>
    /// <param name="options">The validated settings.</param>
    ITrainingSession Start(Oracle head, StructuredLoss loss, int featureCount, StructuredTrainerOptions options);

    /// <summary>
    /// Starts a session for the rows of <paramref name="data"/>; a backend may choose a step made for its rows (the CPU
    /// backend trains the affine model on sparse rows without densifying them). Default: <c>Start(head, loss, data.FeatureCount, options)</c>.
    /// </summary>
    ITrainingSession Start(Oracle head, StructuredLoss loss, TrainingSource data, StructuredTrainerOptions options) =>
        Start(head, loss, data.FeatureCount, options);
}

/// <summary>The state of one training run on a backend: a model, its optimizer, and the loss.</summary>
public interface ITrainingSession : IDisposable
{
    /// <summary>
    /// One update on a mini-batch (<c>[b × p]</c> features, <c>[b × t]</c> targets, and <paramref name="weights"/>: one
    /// non-negative weight per row, or empty for equal weights); returns the batch's (weighted) mean loss. With weights the
    /// step descends Σ wᵣLᵣ / Σ wᵣ.
    /// </summary>
    /// <exception cref="TrainingDivergedException">Scores, the loss or the parameters stopped being finite.</exception>
    double Step(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, ulong draw);

    /// <summary>The mean loss over a data set with the current parameters (no update).</summary>
    double Loss(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ulong draw);

    /// <summary>
    /// One update on a mini-batch of <see cref="TrainingRows"/> (dense or sparse); returns its (weighted) mean loss.
    /// Default: the span overload, on the rows densified when they are sparse.
    /// </summary>
    double Step(TrainingRows batch, ulong draw)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Step(Dense(batch), batch.Targets, batch.Weights, draw);
    }

    /// <summary>The mean loss over a block of rows (no update). Default: the span overload, densified when sparse.</summary>
    double Loss(TrainingRows rows, ulong draw)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return Loss(Dense(rows), rows.Targets, draw);
    }

    /// <summary>The rows' features as dense <c>[Count × p]</c> (a new array when they are sparse).</summary>
    private static ReadOnlySpan<float> Dense(TrainingRows rows)
    {
        if (!rows.IsSparse) return rows.DenseFeatures;
        var dense = new float[rows.Count * rows.FeatureCount];
        rows.CopyDenseTo(dense);
        return dense;
    }

    /// <summary>A copy of the current parameters.</summary>
    object Snapshot();

    /// <summary>Restores parameters from a <see cref="Snapshot"/>.</summary>
    void Restore(object snapshot);

    /// <summary>The trained model, in managed code, with every output of the loss (the loop keeps the head's scores).</summary>
    ITrainableModel Result();
}

/// <summary>Thrown when training stops producing finite numbers.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);

/// <summary>The managed CPU step: an affine model or an MLP (<see cref="StructuredTrainerOptions.HiddenLayers"/>), SGD, Adam or AdaGrad.</summary>
internal sealed class CpuTrainingBackend : IStructuredTrainingBackend
{
    /// <summary>The shared instance.</summary>
    public static CpuTrainingBackend Instance { get; } = new();

    /// <inheritdoc/>
    public ITrainingSession Start(Oracle head, StructuredLoss loss, int featureCount, StructuredTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        ITrainableModel model = options.ModelFactory is { } factory ? FromFactory(factory, featureCount, loss)
            : options.HiddenLayers.Count > 0
            ? MlpModel.Random(featureCount, options.HiddenLayers, loss.Dimension, options.Seed)
            : InitialAffine(featureCount, loss.Dimension, options.EffectiveInitialWeightScale, options.Seed);
        return new ManagedTrainingSession(model, loss, options);
    }

    /// <inheritdoc/>
    /// <remarks>Sparse rows with the built-in affine model or MLP train through a sparse first layer (lazy updates of the
    /// features present; docs/architecture.md, "Data sources and sparse training"); a user's model gets each sparse batch densified.</remarks>
    public ITrainingSession Start(Oracle head, StructuredLoss loss, TrainingSource data, StructuredTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        return data.IsSparse && options.ModelFactory is null
            ? new SparseInputSession(loss, data.FeatureCount, options)
            : Start(head, loss, data.FeatureCount, options);
    }

    private static ITrainableModel FromFactory(Func<int, int, ITrainableModel> factory, int features, StructuredLoss loss)
    {
        ITrainableModel model = factory(features, loss.Dimension)
            ?? throw new InvalidOperationException($"'{nameof(StructuredTrainerOptions.ModelFactory)}' returned null.");
        if (model.Features != features || model.Outputs != loss.Dimension)
        {
            throw new ArgumentException($"'{nameof(StructuredTrainerOptions.ModelFactory)}' made a model of {model.Features} features and {model.Outputs} outputs; " +
                $"the data have {features} features and the loss {loss.Name} needs {loss.Dimension} outputs.", nameof(StructuredTrainerOptions.ModelFactory));
        }
        return model.Clone();   // the caller's instance is left as it was
    }

    /// <summary>One initial weight: N(0, scale²) by Box–Muller from two uniforms in (0, 1] of the run's generator.</summary>
    internal static float InitialWeight(System.Random random, double scale)
    {
        double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
        return (float)(scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    /// <summary>An affine model with N(0, scale²) weights from a seeded generator and zero biases.</summary>
    internal static AffineModel InitialAffine(int features, int outputs, double scale, int seed)
    {
        var model = new AffineModel(features, outputs);
        if (scale > 0)
        {
            var random = new System.Random(seed);
            Span<float> w = model.ParameterArray.AsSpan(0, features * outputs);
            for (int i = 0; i < w.Length; i++) w[i] = InitialWeight(random, scale);
        }
        return model;
    }

    private sealed class ManagedTrainingSession(ITrainableModel model, StructuredLoss loss, StructuredTrainerOptions options) : ITrainingSession
    {
        private readonly GradientOptimizer _optimizer = new(options.Optimizer, options.LearningRate, model.Parameters.Length);
        private readonly double[] _gradient = new double[model.Parameters.Length];
        private float[] _theta = [], _g = [], _rowLoss = [], _dense = [];

        public double Step(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, ulong draw)
        {
            double mean = Evaluate(features, targets, draw);
            int b = features.Length / model.Features;
            Span<float> g = _g.AsSpan(0, b * loss.Dimension);
            if (!weights.IsEmpty) mean = StructuredTrainer.Weigh(g, _rowLoss.AsSpan(0, b), weights, loss.Dimension);
            model.Backward(features, g, options.L2Regularization, _gradient);
            _optimizer.Step(model.Parameters, _gradient);
            StructuredTrainer.CheckParameters(model.Parameters);
            return mean;
        }

        public double Loss(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ulong draw) => Evaluate(features, targets, draw);

        public double Step(TrainingRows batch, ulong draw) => Step(Features(batch), batch.Targets, batch.Weights, draw);

        public double Loss(TrainingRows rows, ulong draw) => Evaluate(Features(rows), rows.Targets, draw);

        // Sparse rows densified into a reused buffer.
        private ReadOnlySpan<float> Features(TrainingRows rows)
        {
            if (!rows.IsSparse) return rows.DenseFeatures;
            int length = rows.Count * rows.FeatureCount;
            if (_dense.Length < length) _dense = new float[length];
            rows.CopyDenseTo(_dense.AsSpan(0, length));
            return _dense.AsSpan(0, length);
        }

        private double Evaluate(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ulong draw)
        {
            int b = features.Length / model.Features, d = loss.Dimension;
            if (_theta.Length < b * d)
            {
                _theta = new float[b * d];
                _g = new float[b * d];
                _rowLoss = new float[b];
            }
            Span<float> theta = _theta.AsSpan(0, b * d);
            model.Score(features, theta);
            StructuredTrainer.CheckScores(theta);
            return StructuredTrainer.CheckLoss(loss.Evaluate(theta, targets, _rowLoss.AsSpan(0, b), _g.AsSpan(0, b * d), draw));
        }

        public object Snapshot() => model.Parameters.ToArray();

        public void Restore(object snapshot) => ((float[])snapshot).CopyTo(model.Parameters);

        public ITrainableModel Result() => model.Clone();

        public void Dispose()
        {
        }
    }
}
