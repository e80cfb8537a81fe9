using System.Data.Common;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Estimators.Ranking;
using Npgsql;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>Training straight from a database through ML.NET's DatabaseLoader: SQLite (embedded), and PostgreSQL when its binaries are installed.</summary>
public sealed class DatabaseTrainingTests(ITestOutputHelper output)
{
    private const int P = 6, D = 4, N = 400;

    private sealed class Row
    {
        [LoadColumn(0, P - 1), VectorType(P)]
        public float[] Features { get; set; } = [];

        [LoadColumn(P, P + D - 1), VectorType(D)]
        public float[] Label { get; set; } = [];
    }

    /// <summary>A label-ranking table: ranks of a hidden linear map of the features (1 = most preferred).</summary>
    private static List<Row> Rows()
    {
        var random = new System.Random(12);
        var rows = new List<Row>();
        for (int r = 0; r < N; r++)
        {
            float[] x = Enumerable.Range(0, P).Select(_ => (float)Math.Round(random.NextDouble() * 2 - 1, 4)).ToArray();
            double[] s = Enumerable.Range(0, D).Select(k => x[k] - 0.5 * x[k + 2] + 0.2 * random.NextDouble()).ToArray();
            int[] order = Enumerable.Range(0, D).OrderByDescending(k => s[k]).ToArray();
            var ranks = new float[D];
            for (int i = 0; i < D; i++) ranks[order[i]] = i + 1;
            rows.Add(new Row { Features = x, Label = ranks });
        }
        return rows;
    }

    private static string Columns => string.Join(", ", Enumerable.Range(0, P).Select(j => $"f{j}").Concat(Enumerable.Range(0, D).Select(k => $"l{k}")));

    private static void Fill(DbConnection connection, List<Row> rows, string realType)
    {
        using (DbCommand create = connection.CreateCommand())
        {
            create.CommandText = $"CREATE TABLE ranking (id INTEGER PRIMARY KEY, {string.Join(", ", Columns.Split(", ").Select(c => $"{c} {realType}"))})";
            create.ExecuteNonQuery();
        }
        using DbTransaction transaction = connection.BeginTransaction();
        for (int r = 0; r < rows.Count; r++)
        {
            using DbCommand insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = $"INSERT INTO ranking (id, {Columns}) VALUES ({r}, {string.Join(", ", rows[r].Features.Concat(rows[r].Label).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))})";
            insert.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    /// <summary>Writes the table through the provider, then trains from it and compares (<see cref="TrainAndCompare"/>).</summary>
    private static void FillAndTrain(DbProviderFactory factory, string connectionString)
    {
        List<Row> rows = Rows();
        using (DbConnection connection = factory.CreateConnection()!)
        {
            connection.ConnectionString = connectionString;
            connection.Open();
            Fill(connection, rows, "REAL");
        }
        TrainAndCompare(factory, connectionString, rows);
    }

    /// <summary>Trains from the database (streamed and in memory) and from the same rows in memory; all three must be the same model.</summary>
    private static void TrainAndCompare(DbProviderFactory factory, string connectionString, List<Row> rows)
    {
        var ml = new MLContext(seed: 1);
        DatabaseLoader loader = ml.Data.CreateDatabaseLoader<Row>();
        IDataView table = loader.Load(new DatabaseSource(factory, connectionString, $"SELECT {Columns} FROM ranking ORDER BY id"));
        float[] Weights(IDataView data, TrainingDataLoading loading) => ((Microsoft.ML.Perturbed.Training.AffineModel)ml.LabelRanking().Trainers
            .PerturbedFenchelYoung(new PerturbedLabelRankingOptions { NumberOfIterations = 3, Seed = 5, DataLoading = loading, ShufflePoolSize = 1 })
            .Fit(data).Model).Weights.ToArray();
        IDataView memory = ml.Data.LoadFromEnumerable(rows);
        Assert.Equal(Weights(memory, TrainingDataLoading.InMemory), Weights(table, TrainingDataLoading.InMemory));
        Assert.Equal(Weights(memory, TrainingDataLoading.Streaming), Weights(table, TrainingDataLoading.Streaming));

        PerturbedPredictionTransformer model = ml.LabelRanking().Trainers.PerturbedFenchelYoung(new PerturbedLabelRankingOptions
        {
            NumberOfIterations = 20, Seed = 5, DataLoading = TrainingDataLoading.Streaming,
        }).Fit(table);
        Assert.True(ml.LabelRanking().Evaluate(model.Transform(table)).Spearman > 0.7);

        // A failing query surfaces the provider's error and the query.
        IDataView bad = loader.Load(new DatabaseSource(factory, connectionString, "SELECT f0 FROM nowhere"));
        var e = Assert.Throws<InvalidOperationException>(() => ml.LabelRanking().Trainers.PerturbedFenchelYoung(new PerturbedLabelRankingOptions { NumberOfIterations = 1 }).Fit(bad));
        Assert.Contains("SELECT f0 FROM nowhere", e.Message);
        Assert.Contains("nowhere", e.InnerException!.Message);
    }

    [Fact]
    public void Trains_from_sqlite_streamed_and_in_memory_as_from_the_same_rows_in_memory()
    {
        string path = Path.Combine(Path.GetTempPath(), $"perturbed-{Guid.NewGuid():N}.db");
        string connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString();
        try
        {
            FillAndTrain(SqliteFactory.Instance, connectionString);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Trains_from_a_throwaway_postgresql_cluster_when_postgresql_is_installed()
    {
        string? bin = new[] { "/usr/local/bin", "/usr/lib/postgresql/15/bin", "/usr/bin" }.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
        if (bin is null)
        {
            output.WriteLine("Skipped: initdb and pg_ctl are not installed.");
            return;
        }
        string root = Path.Combine(Path.GetTempPath(), $"perturbed-pg-{Guid.NewGuid():N}");
        string data = Path.Combine(root, "data");
        Directory.CreateDirectory(root);
        bool asRoot = Environment.UserName == "root";
        // PostgreSQL refuses to run as root: the cluster belongs to the 'postgres' (or 'nobody') user then.
        string? user = asRoot ? (Run("id", "-u postgres", throwOnError: false) == 0 ? "postgres" : "nobody") : null;
        int port = 20000 + Environment.ProcessId % 20000;
        if (user is not null) Run("chown", $"-R {user} {root}");
        try
        {
            Run(Path.Combine(bin, "initdb"), $"-D {data} -U perturbed --auth=trust -E UTF8 --no-locale", user);
            Run(Path.Combine(bin, "pg_ctl"), $"-D {data} -l {Path.Combine(root, "log")} -w -t 60 -o \"-p {port} -k {root} -c listen_addresses=127.0.0.1\" start", user);
            string connectionString = $"Host=127.0.0.1;Port={port};Username=perturbed;Database=postgres;Pooling=false";
            FillAndTrain(NpgsqlFactory.Instance, connectionString);
        }
        finally
        {
            Run(Path.Combine(bin, "pg_ctl"), $"-D {data} -m immediate -w stop", user, throwOnError: false);
            Directory.Delete(root, recursive: true);
        }
    }

    private int Run(string file, string arguments, string? user = null, bool throwOnError = true)
    {
        var start = user is null ? new ProcessStartInfo(file, arguments) : new ProcessStartInfo("runuser", $"-u {user} -- {file} {arguments}");
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        using Process process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd(), stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 && throwOnError) throw new InvalidOperationException($"{file} {arguments} failed ({process.ExitCode}): {stderr}{stdout}");
        output.WriteLine($"{Path.GetFileName(file)}: exit {process.ExitCode}");
        return process.ExitCode;
    }
}
