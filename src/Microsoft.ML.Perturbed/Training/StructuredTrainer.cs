using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Training;

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
    /// <summary>Trains an affine model on the CPU (see <c>Fit</c> for the arguments).</summary>
    /// <exception cref="ArgumentException">The options ask for hidden layers (use <c>Fit</c>).</exception>
    internal static AffineModel Train(Oracle head, ReadOnlySpan<float> features, ReadOnlySpan<float> targets, int featureCount,
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
    internal static IScoreModel Fit(Oracle head, ReadOnlySpan<float> features, ReadOnlySpan<float> targets, int featureCount,
        StructuredTrainerOptions? options = null, ReadOnlySpan<float> validationFeatures = default, ReadOnlySpan<float> validationTargets = default,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, IStructuredTrainingBackend? backend = null)
        => Fit(head, features, targets, default, featureCount, options, validationFeatures, validationTargets, progress, cancellationToken, backend);

    /// <summary>Trains a score model on weighted rows: the loss is Σ wᵣLᵣ / Σ wᵣ (ML.NET's example weights).</summary>
    /// <param name="head">The prediction head.</param>
    /// <param name="features">Training features, <c>[n × p]</c>, finite.</param>
    /// <param name="targets">Training targets, <c>[n × t]</c>, finite.</param>
    /// <param name="weights">One finite weight ≥ 0 per training row (not all 0), or empty for equal weights.</param>
    /// <param name="featureCount">p.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="validationFeatures">Optional validation features, for early stopping (unweighted).</param>
    /// <param name="validationTargets">Optional validation targets.</param>
    /// <param name="progress">Receives one report per epoch.</param>
    /// <param name="cancellationToken">Stops training between mini-batches.</param>
    /// <param name="backend">Where the steps run; default the managed CPU step.</param>
    internal static IScoreModel Fit(Oracle head, ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, int featureCount,
        StructuredTrainerOptions? options = null, ReadOnlySpan<float> validationFeatures = default, ReadOnlySpan<float> validationTargets = default,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, IStructuredTrainingBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(head);
        options ??= new StructuredTrainerOptions();
        options.Validate();
        Guard.Positive(featureCount, nameof(featureCount));
        StructuredLoss loss = options.CreateLoss(head);
        int t = loss.TargetDimension;
        bool validate = !validationFeatures.IsEmpty;
        // The spans feed in-memory sources without a copy, pinned for the run; the sources check them (once), under these names.
        unsafe
        {
            fixed (float* x = features, y = targets, w = weights, vx = validationFeatures, vy = validationTargets)
            {
                TrainingSource training = new InMemorySource(Pinned(x, features.Length), Pinned(y, targets.Length), Pinned(w, weights.Length), featureCount, t);
                TrainingSource? validation = validate
                    ? new InMemorySource(Pinned(vx, validationFeatures.Length), Pinned(vy, validationTargets.Length), default, featureCount, t,
                        nameof(validationFeatures), nameof(validationTargets))
                    : null;
                return Run(head, loss, options, training, validation, progress, cancellationToken, backend);
            }
        }

        static unsafe ReadOnlyMemory<float> Pinned(float* pointer, int length) => length == 0 ? default : new PinnedMemory(pointer, length).Memory;
    }

    /// <summary>
    /// Trains a score model on rows read from a <see cref="TrainingSource"/>: in memory (dense or sparse) or streamed pass
    /// after pass (docs/architecture.md, "Data sources"). Mini-batches come from the source's seeded shuffle; example weights
    /// (when the source has them) weigh the loss as Σ wᵣLᵣ / Σ wᵣ. The validation source, when given, is read in its own
    /// order once per epoch (in chunks of <see cref="ValidationChunkRows"/> rows when streamed) for early stopping.
    /// </summary>
    /// <param name="oracle">The solver whose scores the model learns (argmax, top-k, ranking, matching, a shortest path, a user's oracle, …).</param>
    /// <param name="training">The training rows; their target length must be the loss's.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="validation">Optional validation rows (same features and targets; weights ignored).</param>
    /// <param name="progress">Receives one report per epoch.</param>
    /// <param name="cancellationToken">Stops training between mini-batches.</param>
    /// <param name="backend">Where the steps run; default the managed CPU step (sparse rows train the affine model sparse).</param>
    /// <returns>The model of the head's scores.</returns>
    /// <exception cref="ArgumentException">The sources' shapes do not match the oracle, the loss or each other.</exception>
    /// <exception cref="TrainingDivergedException">Scores, the loss or the parameters overflowed.</exception>
    public static IScoreModel Fit(Oracle oracle, TrainingSource training, StructuredTrainerOptions? options = null, TrainingSource? validation = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, IStructuredTrainingBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        ArgumentNullException.ThrowIfNull(training);
        options ??= new StructuredTrainerOptions();
        options.Validate();
        StructuredLoss loss = options.CreateLoss(oracle);
        if (training.TargetDimension != loss.TargetDimension && training.TargetDimension != loss.EncodedTargetDimension)
        {
            throw new ArgumentException($"The training rows have {training.TargetDimension} target values; the loss {loss.Name} needs {loss.TargetDimension}.", nameof(training));
        }
        if (validation is not null && (validation.FeatureCount != training.FeatureCount || validation.TargetDimension != training.TargetDimension))
        {
            throw new ArgumentException($"Validation rows have {validation.FeatureCount} features and {validation.TargetDimension} target values, " +
                $"training rows {training.FeatureCount} and {training.TargetDimension}.", nameof(validation));
        }
        return Run(oracle, loss, options, training, validation, progress, cancellationToken, backend);
    }

    /// <summary>Rows per validation chunk when the validation source is streamed (in memory it is read in one chunk).</summary>
    public const int ValidationChunkRows = 4096;

    private static IScoreModel Run(Oracle head, StructuredLoss loss, StructuredTrainerOptions options, TrainingSource training, TrainingSource? validation,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, IStructuredTrainingBackend? backend)
    {
        if (loss.EncodedTargetDimension != loss.TargetDimension)
        {
            // Targets in the loss's encoded form, computed once for rows in memory (SPO+: y*(s) solved once per row, not per step).
            if (training.TargetDimension == loss.TargetDimension) training = training.WithEncodedTargets(loss);
            if (validation is not null && validation.TargetDimension == loss.TargetDimension) validation = validation.WithEncodedTargets(loss);
        }
        if (loss.IsBatchLoss && training.HasWeights)
        {
            throw new ArgumentException($"The loss {loss.Name} is one value per batch (a quantile of the batch's residuals) and takes no example weights; train without a weight column.", nameof(training));
        }
        loss.BeginTraining(training);   // a loss over a solution pool seeds its pool with the training targets' solutions
        int p = training.FeatureCount, t = training.TargetDimension;
        using ITrainingSession session = (backend ?? CpuTrainingBackend.Instance).Start(head, loss, training, options);
        var batch = new TrainingRows(p, t, training.IsSparse, training.HasWeights);
        using BatchReader reader = training.OpenReader(options.Seed, shuffle: true);
        using BatchReader? validationReader = validation?.OpenReader(0, shuffle: false);
        TrainingRows? validationRows = validation is null ? null : new TrainingRows(p, t, validation.IsSparse, hasWeights: false);
        // In memory: one chunk. Streamed, or a batch-level loss (a quantile of a chunk's residuals): chunks of ValidationChunkRows.
        int chunk = validation?.RowCount is long rows && !loss.IsBatchLoss ? (int)Math.Min(rows, int.MaxValue) : ValidationChunkRows;
        var stopping = new EarlyStopping<object>(options.EarlyStoppingPatience);
        ulong step = 0;
        for (int epoch = 1; epoch <= options.NumberOfIterations; epoch++)
        {
            reader.StartPass();
            double epochLoss = 0;
            int batches = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!reader.Read(batch, options.BatchSize)) break;
                if (batch.HasWeights && !batch.Weights.ContainsAnyExcept(0f)) continue;   // a batch of zero-weight rows teaches nothing
                try
                {
                    epochLoss += session.Step(batch, step++);
                }
                catch (TrainingDivergedException e)
                {
                    throw new TrainingDivergedException($"Training diverged at epoch {epoch}, step {step}: {e.Message} " +
                        $"Try a smaller '{nameof(options.LearningRate)}' (now {options.LearningRate}), standardized features, or L2 regularization.");
                }
                batches++;
            }
            if (batches == 0)
            {
                throw new ArgumentException("Every weight is 0; at least one row must count.", nameof(training));
            }
            double validationLoss = double.NaN;
            bool stop = false;
            if (validationReader is not null)
            {
                validationLoss = ValidationLoss(session, validationReader, validationRows!, chunk);
                stop = stopping.Observe(validationLoss, session.Snapshot);
            }
            progress?.Report(new TrainingProgress(epoch, epochLoss / batches, validationLoss) { BestEpoch = stopping.BestObservation, StoppedEarly = stop });
            if (stop) break;
        }
        if (stopping.Best is { } best) session.Restore(best);
        ITrainableModel model = session.Result();
        return loss.ScoreDimension < loss.Dimension ? model.FirstOutputs(loss.ScoreDimension) : model;
    }

    // The mean validation loss at a fixed draw (epochs compared on the same noise): one chunk's mean as it is, several
    // chunks' means weighted by their rows.
    private static double ValidationLoss(ITrainingSession session, BatchReader reader, TrainingRows rows, int chunk)
    {
        reader.StartPass();
        double total = 0, single = double.NaN;
        long count = 0;
        int chunks = 0;
        while (reader.Read(rows, chunk))
        {
            double mean = session.Loss(rows, ulong.MaxValue);
            single = mean;
            total += mean * rows.Count;
            count += rows.Count;
            chunks++;
        }
        return chunks == 1 ? single : total / count;
    }

    /// <summary>
    /// Turns a batch's per-row gradients and losses into those of the weighted mean Σ wᵣLᵣ / Σ wᵣ: row r's gradient is scaled
    /// by b·wᵣ/Σw (the backward pass divides by b); returns the weighted mean loss. A backend calls it in its step.
    /// </summary>
    internal static double Weigh(Span<float> gradient, ReadOnlySpan<float> rowLoss, ReadOnlySpan<float> weights, int dimension)
    {
        int b = rowLoss.Length;
        double total = 0, mean = 0;
        for (int r = 0; r < b; r++) total += weights[r];
        for (int r = 0; r < b; r++)
        {
            double scale = b * weights[r] / total;
            foreach (ref float v in gradient.Slice(r * dimension, dimension)) v = (float)(v * scale);
            mean += weights[r] / total * rowLoss[r];
        }
        return mean;
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
