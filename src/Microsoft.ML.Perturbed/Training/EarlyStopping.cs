namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// Early stopping on a validation loss: remembers the best loss and a snapshot of the parameters that reached it, and
/// says when <see cref="Patience"/> epochs have passed without improvement. Shared by the training backends.
/// </summary>
/// <typeparam name="TSnapshot">What a parameter snapshot is (arrays of weights).</typeparam>
/// <param name="patience">Epochs without improvement before stopping (at least 1).</param>
internal sealed class EarlyStopping<TSnapshot>(int patience) where TSnapshot : class
{
    private int _sinceBest, _observations;

    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; } = patience >= 1 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, "Patience must be at least 1.");

    /// <summary>The best validation loss so far (∞ before the first).</summary>
    public double BestLoss { get; private set; } = double.PositiveInfinity;

    /// <summary>Which observation (1-based: the epoch, observed once per epoch) gave the best loss; 0 before the first.</summary>
    public int BestObservation { get; private set; }

    /// <summary>The parameters at the best validation loss, or null before the first.</summary>
    public TSnapshot? Best { get; private set; }

    /// <summary>Records an epoch's validation loss; takes a snapshot when it improves. Returns true when training should stop.</summary>
    public bool Observe(double validationLoss, Func<TSnapshot> snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _observations++;
        if (validationLoss < BestLoss - 1e-12)
        {
            BestLoss = validationLoss;
            BestObservation = _observations;
            Best = snapshot();
            _sinceBest = 0;
            return false;
        }
        return ++_sinceBest >= Patience;
    }
}
