using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Data;

/// <summary>
/// Where the training loop reads its rows from (docs/architecture.md, "Data sources"): rows held in memory, dense or
/// sparse (<see cref="FromArrays"/>, <see cref="FromRows"/>), or a stream read pass after pass that never holds them all
/// (<see cref="FromStream"/>). The loop opens a <see cref="BatchReader"/> and reads mini-batches of
/// <see cref="TrainingRows"/> from it; each source documents its order and shuffle, which depend only on the seed.
/// </summary>
public abstract class TrainingSource
{
    /// <summary>Default number of rows a streaming source's shuffle pool holds.</summary>
    public const int DefaultShufflePoolSize = 4096;

    /// <summary>Number p of features per row.</summary>
    public abstract int FeatureCount { get; }

    /// <summary>Number of target values per row.</summary>
    public abstract int TargetDimension { get; }

    /// <summary>Whether rows come as sparse features (a score model that reads sparse rows trains on them without densifying).</summary>
    public abstract bool IsSparse { get; }

    /// <summary>Whether rows carry example weights.</summary>
    public abstract bool HasWeights { get; }

    /// <summary>The number of rows when known without a pass (in memory), null for a stream.</summary>
    public abstract long? RowCount { get; }

    /// <summary>
    /// These rows with each target in <paramref name="loss"/>'s encoded form (<see cref="StructuredLoss.EncodeTargets"/>):
    /// encoded as each batch is read by default (a stream); an in-memory source encodes every row once.
    /// </summary>
    internal virtual TrainingSource WithEncodedTargets(StructuredLoss loss) => new EncodedTargetSource(this, loss);

    /// <summary>Opens a reader of passes over the rows.</summary>
    /// <param name="seed">Seeds the shuffle of every pass (the sequence of orders depends on the seed only).</param>
    /// <param name="shuffle">Whether passes are shuffled (training) or read in the source's order (validation).</param>
    internal abstract BatchReader OpenReader(int seed, bool shuffle);

    /// <summary>
    /// Rows held in memory as dense arrays, not copied (the arrays must not change while a reader is open). Each pass is
    /// a permutation of the rows drawn by one <see cref="System.Random"/> seeded once per reader.
    /// </summary>
    /// <param name="features">Features, <c>[n × p]</c>, finite.</param>
    /// <param name="targets">Targets, <c>[n × t]</c>, finite.</param>
    /// <param name="featureCount">p.</param>
    /// <param name="targetDimension">t.</param>
    /// <param name="weights">One finite weight ≥ 0 per row (not all 0), or empty (default) for equal weights.</param>
    /// <exception cref="ArgumentException">A shape does not match, or a value is not finite (the message names row and column).</exception>
    public static TrainingSource FromArrays(ReadOnlyMemory<float> features, ReadOnlyMemory<float> targets, int featureCount, int targetDimension,
        ReadOnlyMemory<float> weights = default) => new InMemorySource(features, targets, weights, featureCount, targetDimension);

    /// <summary>
    /// Rows held in a <see cref="TrainingRows"/> block, dense or sparse, not copied (the block must not change while a reader
    /// is open); shuffled as <see cref="FromArrays"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The block has no rows, holds a value that is not finite, or weights that are not usable.</exception>
    public static TrainingSource FromRows(TrainingRows rows) => new InMemorySource(rows);

    /// <summary>
    /// Rows read from <paramref name="stream"/> pass after pass; at most <paramref name="shufflePoolSize"/> rows (plus one
    /// mini-batch) are held at a time. A shuffled pass draws its rows from a pool: the first <paramref name="shufflePoolSize"/>
    /// rows of the stream fill it, then each emitted row is a uniformly drawn pool row whose place the next streamed row takes
    /// (one seeded <see cref="System.Random"/> per reader). A pool as large as the data is a full shuffle; 1 keeps the
    /// stream's order. Every pass must yield the same number of rows.
    /// </summary>
    /// <param name="stream">The rows.</param>
    /// <param name="shufflePoolSize">Rows in the shuffle pool, ≥ 1; default <see cref="DefaultShufflePoolSize"/>.</param>
    public static TrainingSource FromStream(RowStream stream, int shufflePoolSize = DefaultShufflePoolSize) => new StreamingSource(stream, shufflePoolSize);
}
