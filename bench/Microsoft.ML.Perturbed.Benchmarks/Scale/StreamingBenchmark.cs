using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators;
using Microsoft.ML.Perturbed.Estimators.Classification;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>
/// Benchmark 2, one measurement in one process: the generated corpus read back from its ML.NET binary file
/// (<c>LoadFromBinary</c>), then either one plain cursor pass over it ("read": the floor of a streamed epoch), our
/// multiclass trainer streamed (<c>DataLoading = Streaming</c>, a few epochs), or ML.NET's SDCA maximum entropy on a cache
/// of the rows (for comparison at the sizes where it fits). Fit time, time inside the training steps, peak resident set,
/// accuracy on a separately generated test file.
/// </summary>
public static class StreamingBenchmark
{
    /// <summary>Child: <c>synth TRAINER TRAIN.bin TEST.bin EPOCHS</c>.</summary>
    public static int Child(string trainer, string trainPath, string testPath, int epochs)
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromBinary(trainPath), test = ml.Data.LoadFromBinary(testPath);
        long features = ((VectorDataViewType)train.Schema["Features"].Type).Size;
        var watch = Stopwatch.StartNew();
        if (trainer == "read")
        {
            (long rows, long stored) = Pass(train);
            double seconds = watch.Elapsed.TotalSeconds;
            ChildProcess.Report(new ScaleResult
            {
                Benchmark = "synth", Trainer = trainer, Setting = $"2^{Math.Log2(features):F0} slots", Rows = rows, Features = features, FitSeconds = seconds,
                Note = $"{(double)stored / rows:F1} stored values per row; file {new FileInfo(trainPath).Length >> 20} MiB",
            });
            return 0;
        }
        var timing = new StepTimingBackend();
        var clock = new EpochClock(trainer == "perturbed" ? ml : null);
        var options = new PerturbedMulticlassOptions { DataLoading = TrainingDataLoading.Streaming, NumberOfIterations = epochs, Backend = timing, Progress = clock };
        IEstimator<ITransformer> estimator = trainer switch
        {
            "perturbed" => ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(options),
            "sdca-maxent" => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new Trainers.SdcaMaximumEntropyMulticlassTrainer.Options { MaximumNumberOfIterations = epochs }),
            _ => throw new ArgumentOutOfRangeException(nameof(trainer), trainer, "Unknown trainer; one of read, perturbed, sdca-maxent."),
        };
        bool ours = trainer == "perturbed";
        clock.Start();
        ITransformer model = estimator.Fit(ours ? train : ml.Data.Cache(train));
        double fit = watch.Elapsed.TotalSeconds;
        long peakAfterFit = PeakMemory.PeakResidentBytes();
        MulticlassClassificationMetrics metrics = ml.MulticlassClassification.Evaluate(model.Transform(test), "Label", topKPredictionCount: 3);
        ChildProcess.Report(new ScaleResult
        {
            Benchmark = "synth", Trainer = trainer, Setting = $"2^{Math.Log2(features):F0} slots",
            Rows = train.GetRowCount() ?? train.GetColumn<uint>("Label").LongCount(), Features = features, Epochs = epochs, FitSeconds = fit,
            StepSeconds = ours ? timing.StepSeconds : double.NaN, Accuracy = metrics.MicroAccuracy, Top3Accuracy = metrics.TopKAccuracy,
            TestRows = test.GetRowCount() ?? 0, Note = $"peak after fit {peakAfterFit >> 20} MiB" + (ours ? "; " + clock.Summary() + "; " + timing.MemorySummary() : ""),
        });
        return 0;
    }

    /// <summary>One cursor pass reading every row's features and label; returns the rows and the stored values.</summary>
    public static (long Rows, long Stored) Pass(IDataView data)
    {
        using DataViewRowCursor cursor = data.GetRowCursor(data.Schema.Where(c => c.Name is "Features" or "Label"));
        ValueGetter<VBuffer<float>> getFeatures = cursor.GetGetter<VBuffer<float>>(data.Schema["Features"]);
        ValueGetter<uint> getLabel = cursor.GetGetter<uint>(data.Schema["Label"]);
        VBuffer<float> buffer = default;
        uint label = 0;
        long rows = 0, stored = 0;
        while (cursor.MoveNext())
        {
            getFeatures(ref buffer);
            getLabel(ref label);
            stored += buffer.GetValues().Length;
            rows++;
        }
        return (rows, stored);
    }
}
