using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>Progress of a training run, reported once per epoch.</summary>
/// <param name="Epoch">Epoch just finished (1-based).</param>
/// <param name="TrainingLoss">Mean loss over the epoch's mini-batches.</param>
/// <param name="ValidationLoss">Mean validation loss, or NaN without a validation set.</param>
public readonly record struct TrainingProgress(int Epoch, double TrainingLoss, double ValidationLoss);

/// <summary>
/// Learns an affine score model θ = W x + b so that the head's (perturbed) solution on θ matches the targets, by
/// mini-batch gradient descent on a <see cref="StructuredLoss"/> (Berthet et al. 2020, §5: "doubly stochastic" — fresh
/// rows and fresh noise each step). Deterministic for a seed, whatever the number of threads.
/// </summary>
public static class StructuredTrainer
{
    /// <summary>Trains a model.</summary>
    /// <param name="head">The prediction head (argmax, top-k, ranking, matching, …); input and output dimensions must agree.</param>
    /// <param name="features">Training features, <c>[n × p]</c>, finite.</param>
    /// <param name="targets">Training targets (points of the head's polytope), <c>[n × d]</c>, finite.</param>
    /// <param name="featureCount">p.</param>
    /// <param name="options">Settings.</param>
    /// <param name="validationFeatures">Optional validation features, for early stopping.</param>
    /// <param name="validationTargets">Optional validation targets.</param>
    /// <param name="progress">Receives one report per epoch.</param>
    /// <param name="cancellationToken">Stops training between mini-batches.</param>
    public static AffineModel Train(Oracle head, ReadOnlySpan<float> features, ReadOnlySpan<float> targets, int featureCount,
        StructuredTrainerOptions? options = null, ReadOnlySpan<float> validationFeatures = default, ReadOnlySpan<float> validationTargets = default,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(head);
        options ??= new StructuredTrainerOptions();
        Validate(options);
        Guard.Positive(featureCount, nameof(featureCount));
        int d = head.Dimension;
        int n = Guard.RowCount(features.Length, featureCount, nameof(features));
        Guard.Rows(targets.Length, n, d, nameof(targets));
        Guard.Finite(features, featureCount, nameof(features));
        Guard.Finite(targets, d, nameof(targets));
        bool validate = !validationFeatures.IsEmpty;
        int nValid = 0;
        if (validate)
        {
            nValid = Guard.RowCount(validationFeatures.Length, featureCount, nameof(validationFeatures));
            Guard.Rows(validationTargets.Length, nValid, d, nameof(validationTargets));
            Guard.Finite(validationFeatures, featureCount, nameof(validationFeatures));
            Guard.Finite(validationTargets, d, nameof(validationTargets));
        }

        var loss = new StructuredLoss(head, options.Loss, new PerturbedOptimizerOptions
        {
            Epsilon = options.Epsilon, Samples = options.Samples, Noise = options.Noise, Seed = options.Seed,
            MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
        }, options.BlackboxLambda);
        var model = new AffineModel(featureCount, d);
        int p = featureCount, parameters = model.Parameters.Length, batchSize = Math.Min(options.BatchSize, n);
        var optimizer = new GradientOptimizer(options.Optimizer, options.LearningRate, parameters);
        var gradient = new double[parameters];
        var xb = new float[batchSize * p];
        var yb = new float[batchSize * d];
        var theta = new float[batchSize * d];
        var g = new float[batchSize * d];
        var scratch = new float[batchSize * d];
        var rowLoss = new float[batchSize];
        var order = Enumerable.Range(0, n).ToArray();
        var shuffle = new System.Random(options.Seed);
        var stopping = new EarlyStopping<float[]>(options.EarlyStoppingPatience);
        ulong step = 0;

        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            shuffle.Shuffle(order);
            double epochLoss = 0;
            int batches = 0;
            for (int start = 0; start < n; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int b = Math.Min(batchSize, n - start);
                for (int i = 0; i < b; i++)
                {
                    features.Slice(order[start + i] * p, p).CopyTo(xb.AsSpan(i * p, p));
                    targets.Slice(order[start + i] * d, d).CopyTo(yb.AsSpan(i * d, d));
                }
                Span<float> thetaB = theta.AsSpan(0, b * d), gB = g.AsSpan(0, b * d);
                model.Score(xb.AsSpan(0, b * p), thetaB);
                epochLoss += loss.Evaluate(thetaB, yb.AsSpan(0, b * d), rowLoss.AsSpan(0, b), gB, step++, scratch.AsSpan(0, b * d));
                Accumulate(model, xb.AsSpan(0, b * p), gB, b, options.L2, gradient);
                optimizer.Step(model.Parameters, gradient);
                batches++;
            }
            double validationLoss = double.NaN;
            if (validate)
            {
                validationLoss = MeanLoss(model, loss, validationFeatures, validationTargets, nValid);
                if (stopping.Observe(validationLoss, () => (float[])model.Parameters.Clone()))
                {
                    progress?.Report(new TrainingProgress(epoch, epochLoss / batches, validationLoss));
                    break;
                }
            }
            progress?.Report(new TrainingProgress(epoch, epochLoss / batches, validationLoss));
        }
        stopping.Best?.CopyTo(model.Parameters, 0);
        return model;
    }

    /// <summary>∇W = Gᵀ X / b + λW and ∇b = mean G, for the mini-batch's score gradients G.</summary>
    private static void Accumulate(AffineModel model, ReadOnlySpan<float> x, ReadOnlySpan<float> g, int b, double l2, double[] gradient)
    {
        int p = model.Features, d = model.Outputs;
        Array.Clear(gradient);
        for (int r = 0; r < b; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * p, p);
            for (int k = 0; k < d; k++)
            {
                double gk = g[r * d + k];
                if (gk == 0) continue;
                Span<double> row = gradient.AsSpan(k * p, p);
                SpanMath.AddScaled(row, xr, gk);
                gradient[d * p + k] += gk;
            }
        }
        ReadOnlySpan<float> w = model.Weights;
        for (int i = 0; i < d * p; i++) gradient[i] = gradient[i] / b + l2 * w[i];
        for (int k = 0; k < d; k++) gradient[d * p + k] /= b;
    }

    /// <summary>Mean loss over a data set with a fixed draw (so that epochs are compared on the same noise).</summary>
    private static double MeanLoss(AffineModel model, StructuredLoss loss, ReadOnlySpan<float> x, ReadOnlySpan<float> y, int n)
    {
        int d = model.Outputs;
        var theta = new float[n * d];
        model.Score(x, theta);
        return loss.Evaluate(theta, y, new float[n], new float[n * d], ulong.MaxValue, new float[n * d]);
    }

    private static void Validate(StructuredTrainerOptions o)
    {
        ArgumentNullException.ThrowIfNull(o.Noise, nameof(o.Noise));
        if (!(o.LearningRate > 0) || !double.IsFinite(o.LearningRate))
            throw new ArgumentOutOfRangeException(nameof(o.LearningRate), o.LearningRate, $"'{nameof(o.LearningRate)}' must be a finite number greater than 0.");
        if (!(o.Epsilon > 0) || !double.IsFinite(o.Epsilon))
            throw new ArgumentOutOfRangeException(nameof(o.Epsilon), o.Epsilon, $"'{nameof(o.Epsilon)}' must be a finite number greater than 0.");
        if (!(o.L2 >= 0) || !double.IsFinite(o.L2))
            throw new ArgumentOutOfRangeException(nameof(o.L2), o.L2, $"'{nameof(o.L2)}' must be a finite number ≥ 0.");
        if (o.Epochs < 1 || o.BatchSize < 1 || o.Samples < 1 || o.EarlyStoppingPatience < 1)
            throw new ArgumentOutOfRangeException(nameof(o), $"'{nameof(o.Epochs)}', '{nameof(o.BatchSize)}', '{nameof(o.Samples)}' and '{nameof(o.EarlyStoppingPatience)}' must be at least 1.");
        if (!Enum.IsDefined(o.Optimizer) || !Enum.IsDefined(o.Loss))
            throw new ArgumentOutOfRangeException(nameof(o), "Unknown optimizer or loss.");
    }
}
