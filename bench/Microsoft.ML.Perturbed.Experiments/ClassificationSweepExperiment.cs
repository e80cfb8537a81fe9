using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Classification;
using Microsoft.ML.Perturbed.Estimators.Sweeping;
using Microsoft.ML.Perturbed.Noise;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>One ε of the classification sweep: the 5-fold cross-validated accuracy of a noise law.</summary>
public sealed record SweepPoint(string Noise, double Epsilon, double Accuracy, double Std);

/// <summary>
/// Issue item 6, classification as an ε sweep through the ML.NET API: <c>mlContext.MulticlassClassification.Trainers.PerturbedFenchelYoung</c>
/// on optdigits (features mean-variance normalized, label mapped to a key), swept over ε by <see cref="PerturbedSweep"/>'s
/// grid tuner across the options' own ε range [1e-3, 10] (9 log-spaced levels), each trial 5-fold cross-validated on the
/// same folds, for Gumbel noise (exact: the maximum-entropy model at temperature ε) and normal noise with M = 1.
/// 30 iterations, learning rate 1e-2. The label-ranking sweep is the sweep benchmark (bench/results/sweeps.md).
/// </summary>
public static class ClassificationSweepExperiment
{
    /// <summary>Runs the sweep (or its quick version) on a data file; null when the file is missing.</summary>
    public static IReadOnlyList<SweepPoint>? Run(bool quick, string outDir, string dataPath, TextWriter log)
    {
        if (!File.Exists(dataPath))
        {
            log.WriteLine($"classificationsweep: data file '{dataPath}' not found (pass --data PATH).");
            return null;
        }
        var ml = new MLContext(seed: 0);
        int p = File.ReadLines(dataPath).First().Split(',').Length - 1;
        IDataView data = ml.Data.LoadFromTextFile(dataPath,
            [new TextLoader.Column("Features", DataKind.Single, 0, p - 1), new TextLoader.Column("Label", DataKind.Single, p)], separatorChar: ',', hasHeader: true);
        if (quick) data = ml.Data.TakeRows(ml.Data.ShuffleRows(data, seed: 0), 1000);
        int levels = quick ? 3 : 9, folds = quick ? 2 : 5, iterations = quick ? 3 : 30;
        var points = new List<SweepPoint>();
        foreach ((string name, NoiseDistribution noise, int samples) in new[] { ("Gumbel (exact)", NoiseDistribution.Gumbel, 1), ("normal, M = 1", NoiseDistribution.Normal, 1) })
        {
            var trials = new Microsoft.ML.Perturbed.Samples.ConsoleProgress(log, $"{name} sweep", levels, "trials");
            var result = PerturbedSweep.Run(ml, new PerturbedMulticlassOptions { Noise = noise, Samples = samples, NumberOfIterations = iterations, LearningRate = 1e-2 },
                (context, o) => context.Transforms.NormalizeMeanVariance("Features")
                    .Append(context.Transforms.Conversion.MapValueToKey("Label"))
                    .Append(context.MulticlassClassification.Trainers.PerturbedFenchelYoung(o)),
                data, (context, scored) => context.MulticlassClassification.Evaluate(scored).MicroAccuracy, maximize: true,
                new SweepSettings { Tuner = SweepTunerKind.Grid, GridLevels = levels, Trials = levels, Parameters = ["Epsilon"], NumberOfFolds = folds, Seed = 1, RefitBest = false, Progress = trials.Trials });
            foreach (SweepTrial t in result.Trials.OrderBy(t => (double)t.Parameters["Epsilon"]))
            {
                var point = new SweepPoint(name, (double)t.Parameters["Epsilon"], t.Mean, t.StandardDeviation);
                points.Add(point);
                log.WriteLine($"{name}, ε {point.Epsilon:G3}: CV accuracy {point.Accuracy:P2} ± {point.Std:P2}");
            }
        }
        Directory.CreateDirectory(outDir);
        string suffix = quick ? "-quick" : "";
        var w = new StringWriter();
        w.WriteLine("# Classification ε sweep through mlContext's sweep API" + (quick ? " (quick smoke run)" : ""));
        w.WriteLine();
        w.WriteLine(Report.ProducedBy("classificationsweep" + (quick ? " --quick" : "")));
        w.WriteLine();
        w.WriteLine($"{Path.GetFileName(dataPath)}, {folds}-fold cross-validated micro accuracy (mean ± std over folds), grid tuner over ε ({levels} levels of");
        w.WriteLine($"the options' [1e-3, 10] log range), {iterations} iterations, learning rate 1e-2 (protocol in ClassificationSweepExperiment).");
        w.WriteLine();
        string[] noises = points.Select(q => q.Noise).Distinct().ToArray();
        w.WriteLine($"| ε | {string.Join(" | ", noises)} |");
        w.WriteLine($"|---|{string.Concat(noises.Select(_ => "---|"))}");
        foreach (double eps in points.Select(q => q.Epsilon).Distinct().Order())
            w.WriteLine($"| {eps:G3} | {string.Join(" | ", noises.Select(n => points.First(q => q.Noise == n && q.Epsilon == eps)).Select(q => $"{q.Accuracy:P2} ± {q.Std:P2}"))} |");
        w.WriteLine();
        w.WriteLine("Best: " + string.Join("; ", noises.Select(n => points.Where(q => q.Noise == n).MaxBy(q => q.Accuracy)!).Select(q => $"{q.Noise} {q.Accuracy:P2} at ε = {q.Epsilon:G3}")) + ".");
        File.WriteAllText(Path.Combine(outDir, $"classification_sweep{suffix}.md"), w + Report.FigureLinks(suffix, "classification_sweep"));
        Report.Lines(Path.Combine(outDir, $"classification_sweep{suffix}.png"), "optdigits: cross-validated accuracy against ε (sweep API, grid tuner)",
            "log10 ε", "CV accuracy (%)", noises.Select(n =>
            {
                SweepPoint[] line = points.Where(q => q.Noise == n).ToArray();
                return (n, line.Select(q => Math.Log10(q.Epsilon)).ToArray(), line.Select(q => 100 * q.Accuracy).ToArray());
            }));
        return points;
    }
}
