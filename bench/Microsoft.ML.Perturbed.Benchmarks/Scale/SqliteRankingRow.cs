using Microsoft.ML.Data;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>The DatabaseLoader's row type of <see cref="SqliteRankingBenchmark"/>: columns 0–19 of the query are the features, 20–29 the label ranking.</summary>
public sealed class SqliteRankingRow
{
    [LoadColumn(0, SqliteRankingBenchmark.FeatureCount - 1), VectorType(SqliteRankingBenchmark.FeatureCount)]
    public float[] Features { get; set; } = [];

    [LoadColumn(SqliteRankingBenchmark.FeatureCount, SqliteRankingBenchmark.FeatureCount + SqliteRankingBenchmark.LabelCount - 1), VectorType(SqliteRankingBenchmark.LabelCount)]
    public float[] Label { get; set; } = [];
}
