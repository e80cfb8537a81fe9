namespace Microsoft.ML.Perturbed.Data;

/// <summary>Reads passes of mini-batches from a <see cref="TrainingSource"/> (<see cref="TrainingSource.OpenReader"/>).</summary>
internal abstract class BatchReader : IDisposable
{
    /// <summary>Starts the next pass over the rows (the first call starts the first pass).</summary>
    public abstract void StartPass();

    /// <summary>
    /// Clears <paramref name="batch"/> and fills it with the pass's next rows, at most <paramref name="maxRows"/>; returns
    /// false, with an empty batch, when the pass has no rows left.
    /// </summary>
    /// <exception cref="InvalidOperationException">The source changed between passes (row count), or a row is not usable.</exception>
    public abstract bool Read(TrainingRows batch, int maxRows);

    /// <summary>Releases the reader's cursor, if any.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
