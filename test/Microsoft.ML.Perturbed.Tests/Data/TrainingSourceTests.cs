using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Data;

public class TrainingSourceTests
{
    private static List<string> Pass(BatchReader reader, int batch, out List<int> sizes)
    {
        var rows = new TrainingRows(50, 4, isSparse: true, hasWeights: false);
        var seen = new List<string>();
        sizes = [];
        reader.StartPass();
        while (reader.Read(rows, batch))
        {
            sizes.Add(rows.Count);
            // A generated row is identified by its entries (drawn from its own seed).
            for (int r = 0; r < rows.Count; r++)
            {
                int a = rows.RowStarts[r], b = rows.RowStarts[r + 1];
                seen.Add(string.Join(",", rows.Indices[a..b].ToArray()) + ":" + string.Join(",", rows.Values[a..b].ToArray()));
            }
        }
        return seen;
    }

    [Fact]
    public void In_memory_passes_are_the_loops_permutation_of_the_rows()
    {
        var rows = new TrainingRows(3, 1, isSparse: false, hasWeights: false);
        for (int r = 0; r < 10; r++) rows.Add([r, 0, 0], [r]);
        using BatchReader reader = TrainingSource.FromRows(rows).OpenReader(seed: 5, shuffle: true);
        var batch = new TrainingRows(3, 1, false, false);
        int[] order = Enumerable.Range(0, 10).ToArray();
        var expected = new System.Random(5);
        for (int pass = 0; pass < 3; pass++)
        {
            expected.Shuffle(order);   // the order the loop has always drawn
            reader.StartPass();
            var got = new List<float>();
            while (reader.Read(batch, 4)) got.AddRange(batch.Targets.ToArray());
            Assert.Equal(order.Select(i => (float)i), got);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1000)]
    public void A_streamed_pass_gives_every_row_once_in_batches_and_a_pool_of_one_keeps_the_order(int pool)
    {
        var stream = new SparseData.GeneratedStream(rows: 100, p: 50, d: 4, sparse: true);
        using BatchReader reader = TrainingSource.FromStream(stream, pool).OpenReader(seed: 3, shuffle: true);
        using BatchReader inOrder = TrainingSource.FromStream(stream, pool).OpenReader(seed: 3, shuffle: false);
        List<string> reference = Pass(inOrder, 100, out _);
        Assert.Equal(100, reference.Distinct().Count());
        List<string> first = Pass(reader, 16, out List<int> sizes), second = Pass(reader, 16, out _);
        Assert.Equal([16, 16, 16, 16, 16, 16, 4], sizes);
        Assert.Equal(reference.Order(StringComparer.Ordinal), first.Order(StringComparer.Ordinal));
        Assert.Equal(reference.Order(StringComparer.Ordinal), second.Order(StringComparer.Ordinal));
        if (pool == 1) Assert.Equal(reference, first);
        else Assert.NotEqual(first, second);   // each pass draws afresh
        // Same seed, same orders.
        using BatchReader again = TrainingSource.FromStream(stream, pool).OpenReader(seed: 3, shuffle: true);
        Assert.Equal(first, Pass(again, 16, out _));
    }

    [Fact]
    public void A_stream_that_changes_between_passes_or_holds_a_non_finite_value_is_refused()
    {
        var changing = new SparseData.GeneratedStream(rows: 40, p: 20, d: 3, sparse: true) { DropOnLaterPasses = 1 };
        var e = Assert.Throws<InvalidOperationException>(() => StructuredTrainer.Fit(new ArgmaxOracle(3), TrainingSource.FromStream(changing, 8),
            new StructuredTrainerOptions { NumberOfIterations = 2, Seed = 1 }));
        Assert.Contains("changed between passes: pass 1 read 40 rows, pass 2 read 39", e.Message);

        var rows = new TrainingRows(4, 2, isSparse: true, hasWeights: false);
        rows.Add([1, 3], [1, float.NaN], [1, 0]);
        var nan = Assert.Throws<InvalidOperationException>(() => StructuredTrainer.Fit(new ArgmaxOracle(2), TrainingSource.FromStream(new ReplayStream(rows))));
        Assert.Contains("Row 0 holds NaN in feature slot 3", nan.Message);
        Assert.Contains("slot 3", Assert.Throws<ArgumentException>(() => TrainingSource.FromRows(rows)).Message);
        Assert.Throws<ArgumentException>(() => rows.Add([3, 1], [1, 1], [1, 0]));   // slots out of order
        Assert.Throws<ArgumentException>(() => rows.Add([4], [1], [1, 0]));         // slot out of range
    }

    [Fact]
    public void The_span_overload_checks_its_arrays_once_under_the_callers_names()
    {
        float[] x = [1, 2, 3, 4], y = [1, 0, 0, 1];
        var features = Assert.Throws<ArgumentException>(() => StructuredTrainer.Fit(new ArgmaxOracle(2), new float[] { 1, float.NaN, 3, 4 }, y, 2));
        Assert.Equal("features", features.ParamName);
        var valid = Assert.Throws<ArgumentException>(() => StructuredTrainer.Fit(new ArgmaxOracle(2), x, y, 2, validationFeatures: new float[] { float.NaN, 1 }, validationTargets: new float[] { 1, 0 }));
        Assert.Equal("validationFeatures", valid.ParamName);
        Assert.Contains("row 0, column 0", valid.Message);
        Assert.Equal("validationTargets", Assert.Throws<ArgumentException>(() => StructuredTrainer.Fit(new ArgmaxOracle(2), x, y, 2, validationFeatures: new float[] { 1, 1 }, validationTargets: new float[] { 1 })).ParamName);
    }

    [Fact]
    public void Training_on_a_stream_in_its_order_equals_training_on_the_same_rows_from_any_source_in_that_order()
    {
        var stream = new SparseData.GeneratedStream(rows: 120, p: 30, d: 3, sparse: true);
        var options = new StructuredTrainerOptions { NumberOfIterations = 3, Seed = 2, BatchSize = 16 };
        IScoreModel streamed = StructuredTrainer.Fit(new ArgmaxOracle(3), TrainingSource.FromStream(stream, shufflePoolSize: 1), options);
        var all = new TrainingRows(30, 3, isSparse: true, hasWeights: false);
        using (RowStreamCursor cursor = stream.OpenPass()) while (cursor.ReadRow(all)) { }
        IScoreModel replayed = StructuredTrainer.Fit(new ArgmaxOracle(3), TrainingSource.FromStream(new ReplayStream(all), shufflePoolSize: 1), options);
        Assert.Equal(SparseData.Weights(streamed), SparseData.Weights(replayed));
    }
}
