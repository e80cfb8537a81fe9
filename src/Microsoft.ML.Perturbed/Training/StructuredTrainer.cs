using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>Progress of a training run, reported once per epoch.</summary>
/// <param name="Epoch">Epoch just finished (1-based).</param>
/// <param name="TrainingLoss">Mean loss over the epoch's mini-batches.</param>
/// <param name="ValidationLoss">Mean validation loss, or NaN without a validation set.</param>
public readonly record struct TrainingProgress(int Epoch, double TrainingLoss, double ValidationLoss);

/// <summary>
/// The one training loop (docs/architecture.md, "Training loop"): learns a score model θ = g_w(x) so that the head's
/// (perturbed, interpolated, …) solution on θ matches the targets, by mini-batch gradient descent on a
/// <see cref="StructuredLoss"/> (Berthet et al. 2020, §5: "doubly stochastic" — fresh rows and fresh noise each step).
/// Epochs, seeded shuffles, the step index as the noise draw, early stopping on a validation set, progress, cancellation
/// and divergence checks live here; a backend (<see cref="IStructuredTrainingBackend"/>) supplies the step.
/// Deterministic for a seed, whatever the number of threads.
/// </summary>
public static class StructuredTrainer
{
    /// <summary>Trains an affine model on the CPU (see <see cref="Fit"/> for the arguments).</summary>
    /// <exception cref="ArgumentException">The options ask for hidden layers (use <see cref="Fit"/>).</exception>
    public static AffineModel Train(Oracle head, ReadOnlySpan<float> features, ReadOnlySpan<float> targets, int featureCount,
        StructuredTrainerOptions? options = null, ReadOnlySpan<float> validationFeatures = default, ReadOnlySpan<float> validationTargets = default,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options is { HiddenLayers.Count: > 0 })
        {
            throw new ArgumentException($"'{nameof(StructuredTrainerOptions.HiddenLayers)}' asks for an MLP; call {nameof(Fit)}, which returns any score model.", nameof(options));
        }
        return (AffineModel)Fit(head, features, targets, featureCount, options, validationFeatures, validationTargets, progress, cancellationToken);
    }

    /// <summary>Trains a score model.</summary>
    /// <param name="head">The prediction head (argmax, top-k, ranking, matching, a user oracle, …).</param>
    /// <param name="features">Training features, <c>[n × p]</c>, finite.</param>
    /// <param name="targets">Training targets, <c>[n × t]</c> with t the loss's target length (points of the head's polytope; true scores for SPO+), finite.</param>
    /// <param name="featureCount">p.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="validationFeatures">Optional validation features, for early stopping.</param>
    /// <param name="validationTargets">Optional validation targets.</param>
    /// <param name="progress">Receives one report per epoch.</param>
    /// <param name="cancellationToken">Stops training between mini-batches.</param>
    /// <param name="backend">Where the steps run; default the managed CPU step.</param>
    /// <returns>The model of the head's scores (an extra output such as a learned noise scale is dropped).</returns>
    /// <exception cref="TrainingDivergedException">Scores, the loss or the parameters overflowed.</exception>
    public static IScoreModel Fit(Oracle head, ReadOnlySpan<float> features, ReadOnlySpan<float> targets, int featureCount,
        StructuredTrainerOptions? options = null, ReadOnlySpan<float> validationFeatures = default, ReadOnlySpan<float> validationTargets = default,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, IStructuredTrainingBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(head);
        options ??= new StructuredTrainerOptions();
        options.Validate();
        Guard.Positive(featureCount, nameof(featureCount));
        StructuredLoss loss = options.CreateLoss(head);
        int t = loss.TargetDimension, p = featureCount;
        int n = Guard.RowCount(features.Length, featureCount, nameof(features));
        Guard.Rows(targets.Length, n, t, nameof(targets));
        Guard.Finite(features, featureCount, nameof(features));
        Guard.Finite(targets, t, nameof(targets));
        bool validate = !validationFeatures.IsEmpty;
        if (validate)
        {
            int nValid = Guard.RowCount(validationFeatures.Length, featureCount, nameof(validationFeatures));
            Guard.Rows(validationTargets.Length, nValid, t, nameof(validationTargets));
            Guard.Finite(validationFeatures, featureCount, nameof(validationFeatures));
            Guard.Finite(validationTargets, t, nameof(validationTargets));
        }

        using ITrainingSession session = (backend ?? CpuTrainingBackend.Instance).Start(head, loss, featureCount, options);
        int batchSize = Math.Min(options.BatchSize, n);
        var xb = new float[batchSize * p];
        var yb = new float[batchSize * t];
        var order = Enumerable.Range(0, n).ToArray();
        var shuffle = new System.Random(options.Seed);
        var stopping = new EarlyStopping<object>(options.EarlyStoppingPatience);
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
                    targets.Slice(order[start + i] * t, t).CopyTo(yb.AsSpan(i * t, t));
                }
                try
                {
                    epochLoss += session.Step(xb.AsSpan(0, b * p), yb.AsSpan(0, b * t), step++);
                }
                catch (TrainingDivergedException e)
                {
                    throw new TrainingDivergedException($"Training diverged at epoch {epoch}, step {step}: {e.Message} " +
                        $"Try a smaller '{nameof(options.LearningRate)}' (now {options.LearningRate}), standardized features, or L2 regularization.");
                }
                batches++;
            }
            double validationLoss = double.NaN;
            bool stop = false;
            if (validate)
            {
                // A fixed draw, so that epochs are compared on the same noise.
                validationLoss = session.Loss(validationFeatures, validationTargets, ulong.MaxValue);
                stop = stopping.Observe(validationLoss, session.Snapshot);
            }
            progress?.Report(new TrainingProgress(epoch, epochLoss / batches, validationLoss));
            if (stop) break;
        }
        if (stopping.Best is { } best) session.Restore(best);
        ITrainableModel model = session.Result();
        return loss.ScoreDimension < loss.Dimension ? model.FirstOutputs(loss.ScoreDimension) : model;
    }

    internal static void CheckScores(ReadOnlySpan<float> theta)
    {
        for (int i = 0; i < theta.Length; i++)
        {
            if (!float.IsFinite(theta[i])) throw new TrainingDivergedException($"the model's scores overflowed ({theta[i]}).");
        }
    }

    internal static double CheckLoss(double loss) =>
        double.IsFinite(loss) ? loss : throw new TrainingDivergedException($"the loss is {loss}.");

    internal static void CheckParameters(ReadOnlySpan<float> parameters)
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            if (!float.IsFinite(parameters[i])) throw new TrainingDivergedException($"parameter {i} overflowed ({parameters[i]}).");
        }
    }
}
