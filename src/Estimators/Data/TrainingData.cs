using Microsoft.ML.Perturbed.Data;

namespace Microsoft.ML.Perturbed.Estimators.Data;

/// <summary>
/// Turns a data view into the training loop's sources (docs/architecture.md, "Data sources"): in memory (dense, or sparse
/// rows kept sparse) or streamed through cursors on every pass, with the validation rows held out the same way.
/// </summary>
internal static class TrainingData
{
    /// <summary>
    /// The training source and, when <paramref name="validationFraction"/> &gt; 0, the held-out validation source.
    /// In memory the hold-out is a seeded permutation's first ⌈f·n⌉ rows; streamed, each row is held out when a seeded hash
    /// of its position falls below f (about f·n rows, the same rows on every pass).
    /// </summary>
    public static (TrainingSource Training, TrainingSource? Validation) Open(Func<Func<long, bool>?, DataViewRowStream> stream,
        TrainingDataLoading loading, long budgetBytes, int poolSize, double validationFraction, int seed, TrainingRun run)
    {
        if (loading != TrainingDataLoading.Streaming)
        {
            DataViewRowStream all = stream(null);
            TrainingRows? rows = ReadAll(all, loading == TrainingDataLoading.Auto ? budgetBytes : long.MaxValue, run);
            if (rows is not null)
            {
                if (validationFraction > 0)
                {
                    (TrainingRows train, TrainingRows valid) = HoldOut(rows, validationFraction, seed);
                    return (TrainingSource.FromRows(train), TrainingSource.FromRows(valid));
                }
                return (TrainingSource.FromRows(rows), null);
            }
            run.Info($"{all.Role}: the rows take more than {budgetBytes >> 20} MB; streaming them on every pass instead (DataLoading = Auto).");
        }
        if (validationFraction > 0)
        {
            ulong key = (ulong)seed ^ 0x5EED;
            bool Held(long row) => Unit(key, row) < validationFraction;
            var trainStream = stream(row => !Held(row));
            run.Watch(trainStream);
            return (TrainingSource.FromStream(trainStream, poolSize), TrainingSource.FromStream(stream(Held), 1));
        }
        DataViewRowStream only = stream(null);
        run.Watch(only);
        return (TrainingSource.FromStream(only, poolSize), null);
    }

    /// <summary>One pass into memory; null when the rows outgrow <paramref name="budgetBytes"/>.</summary>
    private static TrainingRows? ReadAll(DataViewRowStream stream, long budgetBytes, TrainingRun run)
    {
        var rows = new TrainingRows(stream.FeatureCount, stream.TargetDimension, stream.IsSparse, stream.HasWeights);
        int bytesPerValue = stream.IsSparse ? 8 : 4;
        using (RowStreamCursor cursor = stream.OpenPass())
        {
            while (cursor.ReadRow(rows))
            {
                if (rows.StoredValues * bytesPerValue > budgetBytes) return null;
            }
        }
        run.ReportSkipped(stream);
        if (rows.Count == 0)
        {
            throw new InvalidOperationException(stream.SkippedRows > 0
                ? $"The {stream.Role} data has no usable rows: all {stream.SkippedRows} rows have missing values (first: {stream.FirstSkipReason})."
                : $"The {stream.Role} data has no rows.");
        }
        return rows;
    }

    /// <summary>Splits rows by a seeded shuffle: the first ⌈f·n⌉ of the permutation validate, the rest train (at least one each).</summary>
    private static (TrainingRows Train, TrainingRows Valid) HoldOut(TrainingRows rows, double fraction, int seed)
    {
        int n = rows.Count;
        if (n < 2) throw new InvalidOperationException("A validation fraction needs at least two training rows.");
        int held = Math.Clamp((int)Math.Ceiling(fraction * n), 1, n - 1);
        int[] order = Enumerable.Range(0, n).ToArray();
        new System.Random(seed ^ 0x5EED).Shuffle(order);
        var train = new TrainingRows(rows.FeatureCount, rows.TargetDimension, rows.IsSparse, rows.HasWeights);
        var valid = new TrainingRows(rows.FeatureCount, rows.TargetDimension, rows.IsSparse, hasWeights: false);
        foreach (int r in order[held..]) train.AddRow(rows, r);
        foreach (int r in order[..held]) valid.AddRow(rows, r);   // validation is unweighted: features and target only
        return (train, valid);
    }

    /// <summary>A uniform number in [0, 1) from (key, row): SplitMix64's finalizer.</summary>
    private static double Unit(ulong key, long row)
    {
        ulong z = key + 0x9E3779B97F4A7C15UL * (ulong)(row + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }
}
