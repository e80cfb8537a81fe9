namespace Microsoft.ML.Perturbed.Data;

/// <summary>
/// Rows that can be read pass after pass without holding them all — a file, a database query, an ML.NET data view — for
/// <see cref="TrainingSource.FromStream"/>. Each pass must give the same rows in the same order (a source that changes
/// between passes is refused by the reader).
/// </summary>
public abstract class RowStream
{
    /// <summary>Number p of features per row.</summary>
    public abstract int FeatureCount { get; }

    /// <summary>Number of target values per row.</summary>
    public abstract int TargetDimension { get; }

    /// <summary>Whether rows are stored sparse.</summary>
    public abstract bool IsSparse { get; }

    /// <summary>Whether rows carry example weights.</summary>
    public abstract bool HasWeights { get; }

    /// <summary>Opens one pass over every row.</summary>
    public abstract RowStreamCursor OpenPass();
}
