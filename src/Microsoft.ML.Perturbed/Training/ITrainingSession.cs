using Microsoft.ML.Perturbed.Data;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>The state of one training run on a backend: a model, its optimizer, and the loss.</summary>
internal interface ITrainingSession : IDisposable
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
