// Multiclass classification with the perturbed Fenchel-Young loss, next to ML.NET's maximum-entropy trainers.
//   dotnet run --project samples/Classification -c Release                       optdigits from ../shared/data if present, else generated data
//   dotnet run --project samples/Classification -c Release -- path/to/optdigits.csv
//   dotnet run --project samples/Classification -c Release -- --sweep             sweep ε (grid, validation split) instead
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Classification;
using Microsoft.ML.Perturbed.Estimators.Sweeping;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var mlContext = new MLContext(seed: 0);
string? path = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? FindOptdigits();
IDataView data;
if (path is not null)
{
    Console.WriteLine($"optdigits: {path}");
    data = mlContext.Data.LoadFromTextFile(path,
        [new TextLoader.Column("Features", DataKind.Single, 0, 63), new TextLoader.Column("Label", DataKind.Single, 64)], separatorChar: ',', hasHeader: true);
}
else
{
    Console.WriteLine("optdigits not found: generated data (10 Gaussian classes in 64 dimensions, 5,000 rows).");
    data = Generated(mlContext, 5000, 64, 10);
}
DataOperationsCatalog.TrainTestData split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
IDataView train = mlContext.Data.Cache(split.TrainSet), test = split.TestSet;
var prefix = mlContext.Transforms.Conversion.MapValueToKey("Label").Append(mlContext.Transforms.NormalizeMeanVariance("Features"));

if (args.Contains("--sweep"))
{
    // Sweep ε (log scale) by a 5-level grid, each trial on a held-out 20 % of the training rows; accuracy maximized.
    Console.WriteLine("\nSweeping ε (grid, 5 levels, one validation split):");
    var sweep = mlContext.Sweep(new PerturbedMulticlassOptions { NumberOfIterations = 10, Seed = 1 },
        (ml, options) => ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .Append(ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(options)),
        train, (ml, scored) => ml.MulticlassClassification.Evaluate(scored).MicroAccuracy,
        settings: new SweepSettings { Tuner = SweepTunerKind.Grid, Parameters = ["Epsilon"], NumberOfFolds = 0 });
    foreach (SweepTrial trial in sweep.Trials) Console.WriteLine($"  {trial}");
    Console.WriteLine($"best: ε = {sweep.BestOptions.Epsilon:G3}, validation accuracy {sweep.Best.Mean:F4}; test accuracy {mlContext.MulticlassClassification.Evaluate(sweep.Model!.Transform(test)).MicroAccuracy:F4}");
    return 0;
}

var trainers = new (string Name, IEstimator<ITransformer> Trainer)[]
{
    ("PerturbedFenchelYoung", mlContext.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions { NumberOfIterations = 20, Seed = 1 })),
    ("SdcaMaximumEntropy", mlContext.MulticlassClassification.Trainers.SdcaMaximumEntropy()),
    ("LbfgsMaximumEntropy", mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy()),
};
Console.WriteLine("\ntrainer                 accuracy  log-loss   training time");
ITransformer? ours = null;
foreach ((string name, IEstimator<ITransformer> trainer) in trainers)
{
    var pipeline = prefix.Append(trainer);
    pipeline.Fit(train);                                  // warm-up (JIT), not timed
    var watch = Stopwatch.StartNew();
    ITransformer model = pipeline.Fit(train);
    double seconds = watch.Elapsed.TotalSeconds;
    MulticlassClassificationMetrics metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
    Console.WriteLine($"{name,-22} {metrics.MicroAccuracy,9:F4} {metrics.LogLoss,9:F4} {seconds,12:F2} s");
    ours ??= model;
}

// Save, reload in a fresh context, and predict a few rows.
string modelPath = Path.Combine(Path.GetTempPath(), "perturbed-classifier.zip");
mlContext.Model.Save(ours!, data.Schema, modelPath);
var fresh = new MLContext();
// No registration needed: ML.NET finds our loaders through the [LoadableClass] attributes of the assembly.
ITransformer loaded = fresh.Model.Load(modelPath, out _);
var engine = fresh.Model.CreatePredictionEngine<Digit, Prediction>(loaded, inputSchemaDefinition: DigitDefinition());
// PredictedLabel is a key (1-based, in the order MapValueToKey met the labels); the class names map it back.
IReadOnlyList<string> classes = ((IEnumerable<ITransformer>)loaded).OfType<PerturbedMulticlassTransformer>().Single().ClassNames;
Console.WriteLine($"\nSaved and reloaded {modelPath}; predictions for the first test rows:");
foreach (Digit digit in mlContext.Data.CreateEnumerable<Digit>(test, reuseRowObject: false, schemaDefinition: DigitDefinition()).Take(5))
{
    Prediction p = engine.Predict(digit);
    Console.WriteLine($"  label {digit.Label,2}  predicted {classes[(int)p.PredictedLabel - 1],2}  probability {p.Score.Max():F3}");
}
return 0;

static SchemaDefinition DigitDefinition()
{
    var definition = SchemaDefinition.Create(typeof(Digit));
    definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 64);
    return definition;
}

static string? FindOptdigits()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "shared", "data", "classification", "optdigits.csv");
        if (File.Exists(candidate)) return candidate;
    }
    return null;
}

static IDataView Generated(MLContext ml, int n, int p, int k)
{
    var rng = new Random(3);
    double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
    var means = new double[k, p];
    for (int c = 0; c < k; c++) for (int i = 0; i < p; i++) means[c, i] = Normal() * 0.6;
    var rows = Enumerable.Range(0, n).Select(r =>
    {
        int c = r % k;
        return new Digit { Features = Enumerable.Range(0, p).Select(i => (float)(means[c, i] + Normal())).ToArray(), Label = c };
    }).ToList();
    return ml.Data.LoadFromEnumerable(rows, DigitDefinition());
}

internal sealed class Digit
{
    public float[] Features { get; set; } = [];
    public float Label { get; set; }
}

internal sealed class Prediction
{
    public uint PredictedLabel { get; set; }
    public float[] Score { get; set; } = [];
}
