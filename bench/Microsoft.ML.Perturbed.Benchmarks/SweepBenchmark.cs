using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Ranking;
using Microsoft.ML.Perturbed.Estimators.Sweeping;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// The sweep benchmark: on every label-ranking set of a folder, the cost-frugal tuner at 12 trials vs random at 12 and
/// the full 5 × 5 grid over (ε, learning rate), each trial 5-fold cross-validated with the same folds; best CV Spearman
/// and time per tuner, a markdown table and a figure of Spearman against ε (the grid's best learning rate per ε).
/// <c>dotnet run -c Release --project bench/Microsoft.ML.Perturbed.Benchmarks -- sweep [dataDir] [outDir]</c>.
/// </summary>
public static class SweepBenchmark
{
    public static int Run(string[] args)
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        Experiments.Report.CaptureCommit();
        string dir = args.Length > 1 ? args[1] : Path.Combine("..", "shared", "data", "label_ranking");
        string outDir = args.Length > 2 ? args[2] : Path.Combine("bench", "results");
        if (!Directory.Exists(dir))
        {
            Console.WriteLine($"Skipped: no label-ranking data at '{Path.GetFullPath(dir)}'.");
            return 0;
        }
        Directory.CreateDirectory(outDir);
        var lines = new List<string>
        {
            "| data | rows | cost-frugal (12) | time | random (12) | time | grid (25) | time | grid's best (ε, η) |",
            "|---|---|---|---|---|---|---|---|---|",
        };
        var plot = new ScottPlot.Plot();
        foreach (string path in Directory.GetFiles(dir, "*.csv").OrderBy(f => new FileInfo(f).Length))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            var ml = new MLContext(seed: 0);
            (IDataView data, long rows) = Load(ml, path);
            var cells = new List<string> { name, rows.ToString(CultureInfo.InvariantCulture) };
            SweepResult<PerturbedLabelRankingOptions>? grid = null;
            foreach ((SweepTunerKind tuner, int trials) in new[] { (SweepTunerKind.CostFrugal, 12), (SweepTunerKind.Random, 12), (SweepTunerKind.Grid, 25) })
            {
                var watch = Stopwatch.StartNew();
                var result = PerturbedSweep.Run(ml, new PerturbedLabelRankingOptions { NumberOfIterations = 50 },
                    (context, o) => context.Transforms.NormalizeMeanVariance("Features").Append(context.LabelRanking().Trainers.PerturbedFenchelYoung(o)),
                    data, (context, scored) => context.LabelRanking().Evaluate(scored).Spearman, maximize: true,
                    new SweepSettings { Tuner = tuner, Trials = trials, Parameters = ["Epsilon", "LearningRate"], NumberOfFolds = 5, Seed = 1, RefitBest = false });
                cells.Add($"{result.Best.Mean:F3} ± {result.Best.StandardDeviation:F3}");
                cells.Add($"{watch.Elapsed.TotalSeconds:F0} s");
                if (tuner == SweepTunerKind.Grid) grid = result;
                Console.Error.WriteLine($"{name} {result.Tuner}: {result.Best}");
            }
            cells.Add($"({(double)grid!.Best.Parameters["Epsilon"]:G3}, {(double)grid.Best.Parameters["LearningRate"]:G3})");
            lines.Add($"| {string.Join(" | ", cells)} |");
            // Spearman against ε, at the best learning rate of each ε.
            var curve = grid.Trials.GroupBy(t => (double)t.Parameters["Epsilon"]).OrderBy(g => g.Key).Select(g => (Eps: g.Key, Rho: g.Max(t => t.Mean))).ToArray();
            var line = plot.Add.Scatter(curve.Select(c => Math.Log10(c.Eps)).ToArray(), curve.Select(c => c.Rho).ToArray());
            line.LegendText = name;
        }
        plot.Title("Label ranking: 5-fold CV Spearman against ε (best learning rate per ε)");
        plot.XLabel("log10 ε");
        plot.YLabel("Spearman ρ");
        plot.ShowLegend();
        plot.SavePng(Path.Combine(outDir, "sweeps.png"), 900, 540);
        File.WriteAllLines(Path.Combine(outDir, "sweeps-table.md"),
            [Experiments.Report.ProducedByCommand("dotnet run -c Release --project bench/Microsoft.ML.Perturbed.Benchmarks -- " + string.Join(' ', args)), "", .. lines]);
        foreach (string l in lines) Console.WriteLine(l);
        return 0;
    }

    private static (IDataView, long) Load(MLContext ml, string path)
    {
        string[] header = File.ReadLines(path).First().Split(',');
        int p = header.Count(h => h.StartsWith('A')), k = header.Count(h => h.StartsWith('L'));
        IDataView data = ml.Data.LoadFromTextFile(path,
            [new TextLoader.Column("Features", DataKind.Single, 0, p - 1), new TextLoader.Column("Label", DataKind.Single, p, p + k - 1)], separatorChar: ',', hasHeader: true);
        return (ml.Data.Cache(data), File.ReadLines(path).Count(l => l.Length > 0) - 1);
    }
}
