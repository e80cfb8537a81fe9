namespace Microsoft.ML.Perturbed.Training;

/// <summary>Progress of a training run, reported once per epoch.</summary>
/// <param name="Epoch">Epoch just finished (1-based).</param>
/// <param name="TrainingLoss">Mean loss over the epoch's mini-batches.</param>
/// <param name="ValidationLoss">Mean validation loss, or NaN without a validation set.</param>
public readonly record struct TrainingProgress(int Epoch, double TrainingLoss, double ValidationLoss)
{
    /// <summary>With a validation set: the epoch of the best validation loss so far, whose model training keeps; 0 without one.</summary>
    public int BestEpoch { get; init; }

    /// <summary>Whether early stopping ends training after this epoch (no improvement for the patience); false without a validation set.</summary>
    public bool StoppedEarly { get; init; }
}
