namespace Microsoft.ML.Perturbed.Estimators;

/// <summary>How a perturbed trainer reads its training data (docs/architecture.md, "Data sources").</summary>
public enum TrainingDataLoading
{
    /// <summary>
    /// In memory while the rows fit in <see cref="PerturbedTrainerOptions.InMemoryBudgetMegabytes"/> (dense rows as they are,
    /// sparse rows — FeaturizeText, one-hot or hashing output — by their stored values), streamed otherwise. The default.
    /// </summary>
    Auto,

    /// <summary>Always held in memory (dense or sparse), shuffled by a full permutation per epoch.</summary>
    InMemory,

    /// <summary>
    /// Always streamed: every epoch reads the data view through a cursor, shuffled through a pool of
    /// <see cref="PerturbedTrainerOptions.ShufflePoolSize"/> rows, so memory does not grow with the number of rows.
    /// Put <c>AppendCacheCheckpoint</c> before the trainer to read an expensive pipeline once, as for ML.NET's multi-pass trainers.
    /// </summary>
    Streaming,
}
