// Label ranking with perturbed Fenchel-Young losses in ML.NET (Berthet et al. 2020, §5).
//   dotnet run --project samples/LabelRanking -c Release                      synthetic data like the paper's
//   dotnet run --project samples/LabelRanking -c Release -- --data iris.csv   a CSV with A1..Ap,L1..Lk (rank 1 = best)
// Options: --folds N (default 10), --epochs N (default 30), --rows N, --labels K, --features P (synthetic data),
//          --sweep (sweep ε with 12 cross-validated trials instead of comparing the losses),
//          --log (also print the messages of ML.NET's log channel: every epoch of every fit, every sweep trial).
// Progress: each cross-validation shows its epochs and the time left (the trainers' Progress option), a sweep each trial.
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Ranking;
using Microsoft.ML.Perturbed.Estimators.Sweeping;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Samples;
using Microsoft.ML.Perturbed.Training;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string? dataPath = Argument("--data");
int folds = int.Parse(Argument("--folds") ?? "10"), epochs = int.Parse(Argument("--epochs") ?? "30");
var mlContext = new MLContext(seed: 0);
if (args.Contains("--log"))
{
    // ML.NET's log channel: our trainers write each epoch there, the sweep each trial (sources "Training", "PerturbedSweep").
    mlContext.Log += (_, e) =>
    {
        if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info && (e.Source.Contains("Training", StringComparison.Ordinal) || e.Source.Contains("Sweep", StringComparison.Ordinal)))
        {
            Console.WriteLine($"  [log] {e.Message}");
        }
    };
}

IDataView data;
if (dataPath is null)
{
    int n = int.Parse(Argument("--rows") ?? "1000"), k = int.Parse(Argument("--labels") ?? "100"), p = int.Parse(Argument("--features") ?? "50");
    Console.WriteLine($"Synthetic data like the paper's: x ~ N(0, I_{p}), label = ranking of xᵀW₀ + 0.5·z over {k} labels, {n} rows.");
    data = Synthetic(mlContext, n, p, k, sigma: 0.5, seed: 42);
}
else
{
    string[] header = File.ReadLines(dataPath).First().Split(',');
    int p = header.Count(h => h.StartsWith('A')), k = header.Count(h => h.StartsWith('L'));
    Console.WriteLine($"{Path.GetFileName(dataPath)}: {p} features, {k} labels.");
    data = mlContext.Data.LoadFromTextFile(dataPath,
        [new TextLoader.Column("Features", DataKind.Single, 0, p - 1), new TextLoader.Column("Label", DataKind.Single, p, p + k - 1)],
        separatorChar: ',', hasHeader: true);
}

if (args.Contains("--sweep"))
{
    // Sweep ε without AutoML: 12 cost-frugal trials, each 5-fold cross-validated; the best options refit on all rows.
    Console.WriteLine("\nSweeping ε (cost-frugal search, 12 trials, 5-fold CV each), each trial as it finishes:");
    var trials = new ConsoleProgress(Console.Out, "sweep", 12, "trials");
    SweepResult<PerturbedLabelRankingOptions> sweep = mlContext.Sweep(new PerturbedLabelRankingOptions { NumberOfIterations = epochs, Seed = 1 },
        (ml, options) => ml.Transforms.NormalizeMeanVariance("Features").Append(ml.LabelRanking().Trainers.PerturbedFenchelYoung(options)),
        data, (ml, scored) => ml.LabelRanking().Evaluate(scored).Spearman,
        settings: new SweepSettings { Parameters = ["Epsilon"], Trials = 12, Progress = trials.Trials });
    Console.WriteLine($"best: ε = {sweep.BestOptions.Epsilon:G3}, Spearman {sweep.Best.Mean:F3} ± {sweep.Best.StandardDeviation:F3}");
    return 0;
}

// Compare the losses of the paper with 10-fold cross-validation (features standardized inside each fold).
Console.WriteLine($"\n{folds}-fold cross-validation, {epochs} epochs, Adam:");
Console.WriteLine("loss                     Spearman  Kendall   exact   time");
foreach (StructuredLossKind loss in new[] { StructuredLossKind.FenchelYoung, StructuredLossKind.SquaredScores, StructuredLossKind.Blackbox, StructuredLossKind.IdentityWithProjection })
{
    var progress = new ConsoleProgress(Console.Out, loss.ToString(), folds * epochs, "epochs");
    var pipeline = Pipeline(mlContext, loss, epochs, progress.Epochs);
    var watch = Stopwatch.StartNew();
    IReadOnlyList<LabelRankingCrossValidationResult> results = mlContext.LabelRanking().CrossValidate(data, pipeline, folds);
    Console.WriteLine($"{loss,-24} {results.Average(r => r.Metrics.Spearman),8:F3} {results.Average(r => r.Metrics.KendallTau),8:F3} {results.Average(r => r.Metrics.ExactMatch),7:F3} {watch.Elapsed.TotalSeconds,5:F1} s");
}

// Train on everything, save, reload in a fresh context, and check the predictions agree.
ITransformer model = Pipeline(mlContext, StructuredLossKind.FenchelYoung, epochs).Fit(data);
string path = Path.Combine(Path.GetTempPath(), "label-ranking-model.zip");
mlContext.Model.Save(model, data.Schema, path);
var fresh = new MLContext();
// A fresh context loads our components like ML.NET's own: no registration call.
ITransformer loaded = fresh.Model.Load(path, out _);
float[][] before = model.Transform(data).GetColumn<float[]>("PredictedRanking").Take(3).ToArray();
float[][] after = loaded.Transform(data).GetColumn<float[]>("PredictedRanking").Take(3).ToArray();
bool same = before.Zip(after).All(pair => pair.First.SequenceEqual(pair.Second));
Console.WriteLine($"\nSaved to {path} ({new FileInfo(path).Length / 1024} KiB), reloaded in a fresh MLContext: predictions {(same ? "identical" : "DIFFERENT")}.");
Console.WriteLine($"First row, predicted ranking of the first 10 labels: [{string.Join(", ", after[0].Take(10))}]");
return same ? 0 : 1;

static IEstimator<ITransformer> Pipeline(MLContext ml, StructuredLossKind loss, int epochs, IProgress<TrainingProgress>? progress = null) =>
    ml.Transforms.NormalizeMeanVariance("Features")
        .Append(ml.LabelRanking().Trainers.PerturbedFenchelYoung(new PerturbedLabelRankingOptions { Loss = loss, NumberOfIterations = epochs, Seed = 1, Progress = progress }));

static IDataView Synthetic(MLContext ml, int n, int p, int k, double sigma, int seed)
{
    var rng = new Random(seed);
    double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
    var w0 = new double[k * p];
    for (int i = 0; i < w0.Length; i++) w0[i] = Normal();
    var rows = new List<Row>(n);
    var score = new double[k];
    for (int r = 0; r < n; r++)
    {
        float[] x = Enumerable.Range(0, p).Select(_ => (float)Normal()).ToArray();
        for (int j = 0; j < k; j++)
        {
            double s = 0;
            for (int i = 0; i < p; i++) s += w0[j * p + i] * x[i];
            score[j] = s + sigma * Normal();
        }
        var label = new float[k];
        int position = 1;
        foreach (int j in Enumerable.Range(0, k).OrderByDescending(j => score[j])) label[j] = position++;
        rows.Add(new Row { Features = x, Label = label });
    }
    var definition = SchemaDefinition.Create(typeof(Row));
    definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, p);
    definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, k);
    return ml.Data.LoadFromEnumerable(rows, definition);
}

string? Argument(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

internal sealed class Row
{
    public float[] Features { get; set; } = [];
    public float[] Label { get; set; } = [];
}
