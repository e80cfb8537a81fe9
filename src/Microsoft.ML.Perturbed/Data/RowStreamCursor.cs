namespace Microsoft.ML.Perturbed.Data;

/// <summary>One pass over a <see cref="RowStream"/>.</summary>
public abstract class RowStreamCursor : IDisposable
{
    /// <summary>Appends the pass's next row to <paramref name="destination"/>; false when the pass has ended.</summary>
    public abstract bool ReadRow(TrainingRows destination);

    /// <summary>Releases the pass.</summary>
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
