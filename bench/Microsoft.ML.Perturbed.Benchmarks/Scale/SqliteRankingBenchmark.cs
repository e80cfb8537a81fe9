using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators;
using Microsoft.ML.Perturbed.Estimators.Ranking;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>
/// Benchmark 3: label ranking from SQLite. A generated table like <c>samples/LabelRanking</c>'s data (x ~ N(0, I₂₀), the label
/// the ranking — 1 = most preferred — of xᵀW₀ + 0.5·z over 10 labels) is written to a temporary SQLite file with
/// Microsoft.Data.Sqlite (a <c>train</c> table and a 10,000-row <c>test</c> table from the same W₀), read back through
/// ML.NET's <c>DatabaseLoader</c> (vector columns from <c>[LoadColumn(start, end)]</c>), and trained by the label-ranking
/// trainer: one plain cursor pass ("read", the loader's own rate), streamed (<c>DataLoading = Streaming</c>: the query runs
/// again every epoch) or held in memory. Rows per second, peak resident set, test Spearman.
/// </summary>
public static class SqliteRankingBenchmark
{
    public const int FeatureCount = 20, LabelCount = 10, TestRows = 10_000;

    private static string Columns => string.Join(", ", Enumerable.Range(0, FeatureCount).Select(i => $"f{i}").Concat(Enumerable.Range(0, LabelCount).Select(j => $"l{j}")));

    /// <summary>Writes the train and test tables; returns the seconds taken.</summary>
    public static double Write(string path, long rows, int seed)
    {
        var watch = Stopwatch.StartNew();
        if (File.Exists(path)) File.Delete(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        var rng = new System.Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var w0 = new double[LabelCount * FeatureCount];
        for (int i = 0; i < w0.Length; i++) w0[i] = Normal();
        foreach ((string table, long count) in new[] { ("train", rows), ("test", (long)TestRows) })
        {
            string columns = Columns;
            using (var create = connection.CreateCommand())
            {
                create.CommandText = $"CREATE TABLE {table} (id INTEGER PRIMARY KEY, {string.Join(", ", columns.Split(", ").Select(c => c + " REAL"))})";
                create.ExecuteNonQuery();
            }
            using SqliteTransaction transaction = connection.BeginTransaction();
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = $"INSERT INTO {table} ({columns}) VALUES ({string.Join(", ", columns.Split(", ").Select(c => "$" + c))})";
            SqliteParameter[] parameters = columns.Split(", ").Select(c => insert.Parameters.Add("$" + c, SqliteType.Real)).ToArray();
            insert.Prepare();
            var x = new double[FeatureCount];
            var score = new double[LabelCount];
            int[] order = new int[LabelCount];
            for (long r = 0; r < count; r++)
            {
                for (int i = 0; i < FeatureCount; i++) parameters[i].Value = x[i] = (float)Normal();
                for (int j = 0; j < LabelCount; j++)
                {
                    double s = 0;
                    for (int i = 0; i < FeatureCount; i++) s += w0[j * FeatureCount + i] * x[i];
                    score[j] = s + 0.5 * Normal();
                    order[j] = j;
                }
                Array.Sort(order, (a, b) => score[b].CompareTo(score[a]));
                for (int position = 0; position < LabelCount; position++) parameters[FeatureCount + order[position]].Value = (double)(position + 1);
                insert.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Child: <c>sqlite TRAINER DB EPOCHS</c> with TRAINER one of read, streaming, in-memory.</summary>
    public static int Child(string trainer, string path, int epochs)
    {
        var ml = new MLContext(seed: 1);
        string connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly }.ToString();
        DatabaseLoader loader = ml.Data.CreateDatabaseLoader<SqliteRankingRow>();
        IDataView train = loader.Load(new DatabaseSource(SqliteFactory.Instance, connectionString, $"SELECT {Columns} FROM train ORDER BY id"));
        IDataView test = loader.Load(new DatabaseSource(SqliteFactory.Instance, connectionString, $"SELECT {Columns} FROM test ORDER BY id"));
        var watch = Stopwatch.StartNew();
        if (trainer == "read")
        {
            long rows = 0;
            using (DataViewRowCursor cursor = train.GetRowCursor(train.Schema))
            {
                ValueGetter<VBuffer<float>> getFeatures = cursor.GetGetter<VBuffer<float>>(train.Schema["Features"]), getLabel = cursor.GetGetter<VBuffer<float>>(train.Schema["Label"]);
                VBuffer<float> x = default, y = default;
                while (cursor.MoveNext()) { getFeatures(ref x); getLabel(ref y); rows++; }
            }
            ChildProcess.Report(new ScaleResult { Benchmark = "sqlite", Trainer = trainer, Setting = "one cursor pass", Rows = rows, Features = FeatureCount, FitSeconds = watch.Elapsed.TotalSeconds });
            return 0;
        }
        var timing = new StepTimingBackend();
        var clock = new EpochClock(ml);
        var options = new PerturbedLabelRankingOptions
        {
            NumberOfIterations = epochs, Backend = timing, Progress = clock,
            DataLoading = trainer switch
            {
                "streaming" => TrainingDataLoading.Streaming,
                "in-memory" => TrainingDataLoading.InMemory,
                _ => throw new ArgumentOutOfRangeException(nameof(trainer), trainer, "Unknown trainer; one of read, streaming, in-memory."),
            },
        };
        clock.Start();
        ITransformer model = ml.LabelRanking().Trainers.PerturbedFenchelYoung(options).Fit(train);
        double fit = watch.Elapsed.TotalSeconds;
        long peakAfterFit = PeakMemory.PeakResidentBytes();
        LabelRankingMetrics metrics = ml.LabelRanking().Evaluate(model.Transform(test));
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM train";
        long trainRows = (long)count.ExecuteScalar()!;
        ChildProcess.Report(new ScaleResult
        {
            Benchmark = "sqlite", Trainer = trainer, Setting = $"{epochs} epochs, batch {options.BatchSize}, M {options.Samples}", Rows = trainRows, Features = FeatureCount,
            Epochs = epochs, FitSeconds = fit, StepSeconds = timing.StepSeconds, Spearman = metrics.Spearman, TestRows = TestRows,
            Note = $"peak after fit {peakAfterFit >> 20} MiB; " + clock.Summary() + "; " + timing.MemorySummary(),
        });
        return 0;
    }
}
