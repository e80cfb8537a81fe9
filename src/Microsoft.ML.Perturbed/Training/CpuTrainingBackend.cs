using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>The managed CPU step: an affine model or an MLP (<see cref="StructuredTrainerOptions.HiddenLayers"/>), SGD, Adam or AdaGrad.</summary>
internal sealed class CpuTrainingBackend : IStructuredTrainingBackend
{
    /// <summary>The shared instance.</summary>
    public static IStructuredTrainingBackend Instance { get; } = new CpuTrainingBackend();

    /// <inheritdoc/>
    ITrainingSession IStructuredTrainingBackend.Start(Oracle head, StructuredLoss loss, int featureCount, StructuredTrainerOptions options)
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
    ITrainingSession IStructuredTrainingBackend.Start(Oracle head, StructuredLoss loss, TrainingSource data, StructuredTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        return data.IsSparse && options.ModelFactory is null
            ? new SparseInputSession(loss, data.FeatureCount, options)
            : ((IStructuredTrainingBackend)this).Start(head, loss, data.FeatureCount, options);
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
