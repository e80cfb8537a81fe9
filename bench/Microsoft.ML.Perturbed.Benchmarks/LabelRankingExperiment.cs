using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Perturbed.Estimators.Ranking;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Losses;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// 10-fold cross-validated Spearman correlation of <c>mlContext.LabelRanking()</c> on the label-ranking sets of
/// ../shared/data/label_ranking (Berthet et al. 2020, appendix Table 1), one column per loss, with the published numbers
/// beside ours. Run with
/// <c>dotnet run -c Release --project bench/Microsoft.ML.Perturbed.Benchmarks -- labelranking [dataDir] [epochs] [λ]</c>;
/// <c>LR_LOSSES=Blackbox,IdentityWithProjection</c> picks the losses (default: the seven of bench/results/label_ranking.md),
/// <c>LR_SETS=iris,wine</c> the data sets (default: every CSV of the folder), <c>LR_RATE</c>, <c>LR_PROJECTION</c> and
/// <c>LR_TASKLOSS</c> override the defaults (bench/labelranking_blackbox_sweep.sh sweeps λ and the task loss with them).
/// </summary>
public static class LabelRankingExperiment
{
    /// <summary>Appendix Table 1: FY, squared, perturbed + squared, blackbox (the experiments' copy, the one home of these numbers).</summary>
    private static IReadOnlyDictionary<string, double[]> Published => Experiments.LabelRankingTunedExperiment.Published;

    private static readonly StructuredLossKind[] PublishedColumns =
        [StructuredLossKind.FenchelYoung, StructuredLossKind.SquaredScores, StructuredLossKind.PerturbedSquared, StructuredLossKind.Blackbox];

    public static int Run(string[] args)
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        string dir = args.Length > 1 ? args[1] : Path.Combine("..", "shared", "data", "label_ranking");
        int epochs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 50;
        double lambda = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : StructuredLossOptions.DefaultBlackboxLambda;
        if (!Directory.Exists(dir))
        {
            Console.WriteLine($"Skipped: no label-ranking data at '{Path.GetFullPath(dir)}'.");
            return 0;
        }
        StructuredLossKind[] losses = Environment.GetEnvironmentVariable("LR_LOSSES") is { } only
            ? only.Split(',').Select(Enum.Parse<StructuredLossKind>).ToArray()
            : [.. PublishedColumns, StructuredLossKind.IdentityWithProjection, StructuredLossKind.SpoPlus, StructuredLossKind.DirectLoss];
        string[]? sets = Environment.GetEnvironmentVariable("LR_SETS")?.Split(',');
        double learningRate = Environment.GetEnvironmentVariable("LR_RATE") is { } rate ? double.Parse(rate, CultureInfo.InvariantCulture) : 0.01;
        ScoreProjection projection = Environment.GetEnvironmentVariable("LR_PROJECTION") is { } pr ? Enum.Parse<ScoreProjection>(pr) : ScoreProjection.PlaneThenSphere;
        TaskLoss? taskLoss = Environment.GetEnvironmentVariable("LR_TASKLOSS") is { } tl ? Enum.Parse<TaskLoss>(tl) : null;

        Console.WriteLine($"| data | rows | {string.Join(" | ", losses.Select(Column))} | time |");
        Console.WriteLine($"|---|---|{string.Concat(losses.Select(_ => "---|"))}---|");
        foreach (string path in Directory.GetFiles(dir, "*.csv").OrderBy(f => Published.Keys.ToList().IndexOf(Path.GetFileNameWithoutExtension(f)) is int i and >= 0 ? i : 99).ThenBy(f => f))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (sets is not null && !sets.Contains(name)) continue;
            var ml = new MLContext(seed: 0);
            (IDataView data, long rows) = Load(ml, path);
            var cells = new List<string>();
            var watch = Stopwatch.StartNew();
            foreach (StructuredLossKind loss in losses)
            {
                var options = new PerturbedLabelRankingOptions
                {
                    Loss = loss, NumberOfIterations = epochs, LearningRate = learningRate, Epsilon = 1, Samples = 10, BatchSize = 32, Seed = 1,
                    BlackboxLambda = lambda, Projection = projection, TaskLoss = taskLoss,
                };
                var pipeline = ml.Transforms.NormalizeMeanVariance("Features").Append(ml.LabelRanking().Trainers.PerturbedFenchelYoung(options));
                double[] rho = ml.LabelRanking().CrossValidate(data, pipeline, numberOfFolds: 10, seed: 0).Select(r => r.Metrics.Spearman).ToArray();
                double mean = rho.Average(), std = Math.Sqrt(rho.Sum(r => (r - mean) * (r - mean)) / (rho.Length - 1));
                int column = Array.IndexOf(PublishedColumns, loss);
                string published = Published.TryGetValue(name, out double[]? p) && column >= 0 ? $" ({p[column]:F2})" : "";
                cells.Add($"{mean:F3} ± {std:F3}{published}");
            }
            Console.WriteLine($"| {name} | {rows} | {string.Join(" | ", cells)} | {watch.Elapsed.TotalSeconds:F0} s |");
        }
        return 0;
    }

    private static string Column(StructuredLossKind loss) => Array.IndexOf(PublishedColumns, loss) >= 0 ? $"{loss} (published)" : loss.ToString();

    private static (IDataView Data, long Rows) Load(MLContext ml, string path)
        => (Experiments.LabelRankingTunedExperiment.Load(ml, path), File.ReadLines(path).Count(l => l.Length > 0) - 1);
}
