using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Classification;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>
/// Benchmark 1, one trainer in one process: the Debian corpus (<see cref="DebianCorpus"/>), a fixed 80/20 split,
/// MapValueToKey(label) (fitted on every row, so every section has a key) + FeaturizeText(text) with its defaults (fitted on
/// the training rows), then the trainer on the featurized training rows: fit time, peak resident set, test accuracy and
/// top-3 accuracy (ML.NET's multiclass evaluator). ML.NET's multi-pass trainers read through a cache of the featurized rows
/// (<c>mlContext.Data.Cache</c>, what <c>AppendCacheCheckpoint</c> does and what ML.NET recommends for SDCA and L-BFGS), filled
/// inside their timed fit; ours reads the featurized view itself (in memory under <c>DataLoading = Auto</c>).
/// </summary>
public static class TextBenchmark
{
    /// <summary>The trainers the parent runs, in order.</summary>
    public static readonly string[] Trainers = ["featurize-only", "perturbed", "sdca-maxent", "sdca-noncalibrated", "lbfgs-maxent"];

    private static PerturbedMulticlassOptions Sgd(PerturbedMulticlassOptions options)
    {
        options.Optimizer = Training.GradientOptimizerKind.Sgd;
        return options;
    }

    /// <summary>The cap on L-BFGS iterations (its only non-default setting here).</summary>
    public const int LbfgsIterations = 100;

    /// <summary>Child: <c>text TRAINER DATA [EPOCHS]</c> (EPOCHS: ours only, 0 = the default).</summary>
    public static int Child(string trainer, string path, int epochs)
    {
        var ml = new MLContext(seed: 1);
        var watch = Stopwatch.StartNew();
        var loader = ml.Data.CreateTextLoader(new TextLoader.Options
        {
            Separators = ['\t'], HasHeader = true, AllowQuoting = false,
            Columns = [new TextLoader.Column("Name", DataKind.String, 0), new TextLoader.Column("Section", DataKind.String, 1), new TextLoader.Column("Text", DataKind.String, 2)],
        });
        IDataView data = loader.Load(path);
        DataOperationsCatalog.TrainTestData split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
        ITransformer keys = ml.Transforms.Conversion.MapValueToKey("Label", "Section").Fit(data);
        ITransformer text = ml.Transforms.Text.FeaturizeText("Features", "Text").Fit(keys.Transform(split.TrainSet));
        ITransformer featurizer = keys.Append(text);
        IDataView train = featurizer.Transform(split.TrainSet), test = featurizer.Transform(split.TestSet);
        long featureCount = ((VectorDataViewType)train.Schema["Features"].Type).Size;
        double prepare = watch.Elapsed.TotalSeconds;

        var timing = new StepTimingBackend();
        var clock = new EpochClock(trainer.StartsWith("perturbed", StringComparison.Ordinal) ? ml : null);
        var options = new PerturbedMulticlassOptions { Backend = timing, Progress = clock };
        if (epochs > 0) options.NumberOfIterations = epochs;
        IEstimator<ITransformer>? estimator = trainer switch
        {
            "featurize-only" => null,
            "perturbed" => ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(options),
            // Not in the default list: ours with SGD (no Adam moments), for the memory profile.
            "perturbed-sgd" => ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(Sgd(options)),
            "sdca-maxent" => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(),
            "sdca-noncalibrated" => ml.MulticlassClassification.Trainers.SdcaNonCalibrated(),
            // Capped: its defaults run until a 1e-7 tolerance, which on ~1M slots × 57 classes (with 20 history vectors of that size) takes too long here.
            "lbfgs-maxent" => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new Trainers.LbfgsMaximumEntropyMulticlassTrainer.Options { MaximumNumberOfIterations = LbfgsIterations }),
            _ => throw new ArgumentOutOfRangeException(nameof(trainer), trainer, $"Unknown trainer; one of {string.Join(", ", Trainers)}."),
        };
        watch.Restart();
        clock.Start();
        long rows = 0;
        if (estimator is null)
        {
            // One pass over the featurized training rows: the featurization every trainer pays once.
            using DataViewRowCursor cursor = train.GetRowCursor(train.Schema.Where(c => c.Name is "Features" or "Label"));
            ValueGetter<VBuffer<float>> features = cursor.GetGetter<VBuffer<float>>(train.Schema["Features"]);
            VBuffer<float> buffer = default;
            long stored = 0;
            while (cursor.MoveNext()) { features(ref buffer); stored += buffer.GetValues().Length; rows++; }
            double pass = watch.Elapsed.TotalSeconds;
            ChildProcess.Report(new ScaleResult
            {
                Benchmark = "text", Trainer = trainer, Rows = rows, Features = featureCount, FitSeconds = pass, PrepareSeconds = prepare,
                Note = $"{(double)stored / rows:F0} stored values per row, {stored * 8 >> 20} MiB as sparse rows (8 bytes a value)",
            });
            return 0;
        }
        bool ours = trainer.StartsWith("perturbed", StringComparison.Ordinal);
        ITransformer model = estimator.Fit(ours ? train : ml.Data.Cache(train));
        double fit = watch.Elapsed.TotalSeconds;
        MulticlassClassificationMetrics metrics = ml.MulticlassClassification.Evaluate(model.Transform(test), "Label", topKPredictionCount: 3);
        rows = split.TrainSet.GetColumn<ReadOnlyMemory<char>>("Section").LongCount();
        long testRows = split.TestSet.GetColumn<ReadOnlyMemory<char>>("Section").LongCount();
        ChildProcess.Report(new ScaleResult
        {
            Benchmark = "text", Trainer = trainer, Setting = ours ? $"{options.Optimizer}, {options.NumberOfIterations} epochs, batch {options.BatchSize}, M {options.Samples}, η {options.LearningRate}"
                : trainer == "lbfgs-maxent" ? $"defaults but at most {LbfgsIterations} iterations" : "defaults",
            Rows = rows, Features = featureCount, Epochs = ours ? options.NumberOfIterations : 0, FitSeconds = fit, PrepareSeconds = prepare,
            StepSeconds = ours ? timing.StepSeconds : double.NaN, Accuracy = metrics.MicroAccuracy, Top3Accuracy = metrics.TopKAccuracy, TestRows = testRows,
            Note = $"classes {((KeyDataViewType)train.Schema["Label"].Type).Count}" + (ours ? "; " + clock.Summary() + "; " + timing.MemorySummary() : ""),
        });
        return 0;
    }
}
