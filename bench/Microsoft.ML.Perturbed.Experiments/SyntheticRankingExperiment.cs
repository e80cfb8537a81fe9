using System.Diagnostics;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>One point of the synthetic label-ranking experiment: a loss's test rates at a noise level after some epochs.</summary>
public sealed record RankingPoint(string Loss, double Sigma, int Epochs, double Perfect, double Partial, double PerfectStd, double PartialStd);

/// <summary>
/// Berthet et al. 2020, Figures 4, 7 and 8: synthetic label ranking with k = 100 labels and p = 50 features. Features
/// x ~ N(0, I₅₀); a ground truth w₀ uniform in {−1, 1}^{100×50} per data seed; labels the ranking of w₀x + σZ (Z standard
/// normal, train and test alike); the affine score model of the library (its bias starts at 0 and stays near it on centered
/// features; the paper's model has none) trained with Adam (lr 1e-2, batch 32) by four losses: perturbed Fenchel-Young
/// (ε = 1, M = 10), perturbed + squared, squared on scores, blackbox (λ = 0.1). Metrics on the test rows: perfect-rank rate
/// (all 100 labels in place) and partial-rank rate (share of labels in place), mean ± std over three data seeds, on a log
/// grid of σ (the decades 1e-2 … 1e3) and, for σ = 0.1334 and 0.7449, against epochs. The paper does not state the sample sizes
/// used in these figures; here 5000 training and 1000 test rows, 30 epochs.
/// </summary>
public static class SyntheticRankingExperiment
{
    private const int Labels = 100, Features = 50;
    private static readonly (string Name, StructuredLossKind Kind)[] Losses =
    [
        ("Fenchel-Young", StructuredLossKind.FenchelYoung), ("perturbed + squared", StructuredLossKind.PerturbedSquared),
        ("squared", StructuredLossKind.SquaredScores), ("blackbox", StructuredLossKind.Blackbox),
    ];

    /// <summary>Runs the experiment (or its quick version), writes the table and figures, returns the points.</summary>
    public static IReadOnlyList<RankingPoint> Run(bool quick, string outDir, TextWriter log)
    {
        int train = quick ? 200 : 5000, test = quick ? 200 : 1000, seeds = quick ? 1 : 3, epochs = quick ? 5 : 30;
        double[] sigmas = quick ? [0.01, 1, 100] : Enumerable.Range(0, 6).Select(i => Math.Pow(10, -2 + i)).ToArray();
        int[] checkpoints = quick ? [1, 5] : [1, 3, 10, 30];
        double[] curveSigmas = [0.1334, 0.7449];
        var head = new RankingOracle(Labels);
        var points = new List<RankingPoint>();
        var watch = Stopwatch.StartNew();
        foreach (double sigma in sigmas)
            foreach (var (name, kind) in Losses)
                points.Add(Point(head, name, kind, sigma, epochs, train, test, seeds, log));
        foreach (double sigma in curveSigmas)
            foreach (var (name, kind) in Losses)
                foreach (int e in checkpoints)
                    points.Add(Point(head, name, kind, sigma, e, train, test, seeds, log));
        log.WriteLine($"synthetic ranking: {points.Count} points in {watch.Elapsed.TotalSeconds:F0} s");
        Directory.CreateDirectory(outDir);
        string suffix = quick ? "-quick" : "";
        File.WriteAllText(Path.Combine(outDir, $"synthetic_ranking{suffix}.md"), Table(points, sigmas, curveSigmas, checkpoints, epochs, train, test, seeds, quick)
            + Report.FigureLinks(suffix, "synthetic_ranking_perfect", "synthetic_ranking_partial", "synthetic_ranking_epochs"));
        Figures(points, sigmas, curveSigmas, epochs, outDir, suffix);
        return points;
    }

    private static RankingPoint Point(RankingOracle head, string name, StructuredLossKind kind, double sigma, int epochs, int train, int test, int seeds, TextWriter log)
    {
        var perfect = new double[seeds];
        var partial = new double[seeds];
        for (int seed = 0; seed < seeds; seed++)
            (perfect[seed], partial[seed]) = TrainAndScore(head, kind, sigma, epochs, train, test, seed);
        var point = new RankingPoint(name, sigma, epochs, perfect.Average(), partial.Average(), Report.Std(perfect), Report.Std(partial));
        log.WriteLine($"σ {sigma:G4}, {epochs} epochs, {name}: perfect {point.Perfect:P1} ± {point.PerfectStd:P1}, partial {point.Partial:P1} ± {point.PartialStd:P1}");
        return point;
    }

    /// <summary>The data of one seed: features <c>[n × 50]</c> and label rankings (the head's solutions) <c>[n × 100]</c>.</summary>
    public static (float[] Features, float[] Labels) Data(Oracle head, int n, double sigma, int seed)
    {
        // w₀ is drawn first, from the seed alone, so that every σ and size of a seed shares it.
        var rng = new System.Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var w0 = new float[Labels * Features];
        for (int i = 0; i < w0.Length; i++) w0[i] = rng.Next(2) == 0 ? -1f : 1f;
        rng = new System.Random(seed * 7919 + 17);
        var x = new float[n * Features];
        var theta = new float[n * Labels];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < Features; j++) x[r * Features + j] = (float)Normal();
            for (int l = 0; l < Labels; l++)
            {
                double s = 0;
                for (int j = 0; j < Features; j++) s += w0[l * Features + j] * x[r * Features + j];
                theta[r * Labels + l] = (float)(s + sigma * Normal());
            }
        }
        var y = new float[n * Labels];
        head.Solve(theta, y);
        return (x, y);
    }

    /// <summary>Trains one loss on a seed's data and returns the perfect- and partial-rank rates on its test rows.</summary>
    public static (double Perfect, double Partial) TrainAndScore(Oracle head, StructuredLossKind kind, double sigma, int epochs, int train, int test, int seed)
    {
        (float[] x, float[] y) = Data(head, train + test, sigma, seed);
        var options = new StructuredTrainerOptions { Loss = kind, NumberOfIterations = epochs, LearningRate = 1e-2, BatchSize = 32, Seed = seed };
        IScoreModel model = StructuredTrainer.Fit(head, x.AsSpan(0, train * Features), y.AsSpan(0, train * Labels), Features, options);
        var theta = new float[test * Labels];
        model.Score(x.AsSpan(train * Features), theta);
        var yHat = new float[test * Labels];
        head.Solve(theta, yHat);
        int perfect = 0, inPlace = 0;
        for (int r = 0; r < test; r++)
        {
            int right = 0;
            for (int l = 0; l < Labels; l++)
                if (yHat[r * Labels + l] == y[(train + r) * Labels + l]) right++;
            inPlace += right;
            if (right == Labels) perfect++;
        }
        return ((double)perfect / test, (double)inPlace / (test * Labels));
    }

    private static string Table(List<RankingPoint> points, double[] sigmas, double[] curveSigmas, int[] checkpoints, int epochs, int train, int test, int seeds, bool quick)
    {
        var w = new StringWriter();
        w.WriteLine("# Synthetic label ranking, Berthet et al. 2020 Figures 4, 7, 8" + (quick ? " (quick smoke run)" : ""));
        w.WriteLine();
        w.WriteLine(Report.ProducedBy("syntheticranking" + (quick ? " --quick" : "")));
        w.WriteLine();
        w.WriteLine($"100 labels, 50 features, {train} training and {test} test rows, {seeds} data seed(s), {epochs} epochs (protocol in");
        w.WriteLine("SyntheticRankingExperiment). The paper gives these results as figures only (no table); its claim, checked below, is that");
        w.WriteLine("Fenchel-Young is at least as good as every other loss at every σ.");
        w.WriteLine();
        foreach ((string metric, Func<RankingPoint, string> cell) in new (string, Func<RankingPoint, string>)[]
        {
            ("Partial-rank rate (share of labels in place)", p => $"{p.Partial:P1} ± {p.PartialStd:P1}"),
            ("Perfect-rank rate (all 100 labels in place)", p => $"{p.Perfect:P1} ± {p.PerfectStd:P1}"),
        })
        {
            w.WriteLine($"## {metric} against σ, after {epochs} epochs");
            w.WriteLine();
            w.WriteLine($"| σ | {string.Join(" | ", Losses.Select(l => l.Name))} | FY best (within 1 std) |");
            w.WriteLine($"|---|{string.Concat(Losses.Select(_ => "---|"))}---|");
            foreach (double sigma in sigmas)
            {
                RankingPoint[] row = Losses.Select(l => points.First(p => p.Loss == l.Name && p.Sigma == sigma && p.Epochs == epochs)).ToArray();
                // At least as good as every other loss, within the seeds' spread (one std of each, summed).
                bool partialBest = row.Skip(1).All(p => row[0].Partial >= p.Partial - row[0].PartialStd - p.PartialStd - 1e-12);
                bool perfectBest = row.Skip(1).All(p => row[0].Perfect >= p.Perfect - row[0].PerfectStd - p.PerfectStd - 1e-12);
                bool best = metric.StartsWith("Partial") ? partialBest : perfectBest;
                w.WriteLine($"| {sigma:G3} | {string.Join(" | ", row.Select(cell))} | {(best ? "yes" : "no")} |");
            }
            w.WriteLine();
        }
        foreach (double sigma in curveSigmas)
        {
            w.WriteLine($"## Partial / perfect rate against epochs, σ = {sigma}");
            w.WriteLine();
            w.WriteLine($"| epochs | {string.Join(" | ", Losses.Select(l => l.Name))} |");
            w.WriteLine($"|---|{string.Concat(Losses.Select(_ => "---|"))}");
            foreach (int e in checkpoints)
            {
                RankingPoint[] row = Losses.Select(l => points.First(p => p.Loss == l.Name && p.Sigma == sigma && p.Epochs == e)).ToArray();
                w.WriteLine($"| {e} | {string.Join(" | ", row.Select(p => $"{p.Partial:P1} / {p.Perfect:P1}"))} |");
            }
            w.WriteLine();
        }
        return w.ToString();
    }

    private static void Figures(List<RankingPoint> points, double[] sigmas, double[] curveSigmas, int epochs, string outDir, string suffix)
    {
        foreach ((string file, string label, Func<RankingPoint, double> metric) in new (string, string, Func<RankingPoint, double>)[]
        {
            ("partial", "partial-rank rate (%)", p => 100 * p.Partial), ("perfect", "perfect-rank rate (%)", p => 100 * p.Perfect),
        })
        {
            Report.Lines(Path.Combine(outDir, $"synthetic_ranking_{file}{suffix}.png"), $"Synthetic label ranking (100 labels): {label} against noise",
                "log10 σ", label, Losses.Select(l =>
                {
                    RankingPoint[] line = sigmas.Select(s => points.First(p => p.Loss == l.Name && p.Sigma == s && p.Epochs == epochs)).ToArray();
                    return (l.Name, line.Select(p => Math.Log10(p.Sigma)).ToArray(), line.Select(metric).ToArray());
                }));
        }
        Report.Lines(Path.Combine(outDir, $"synthetic_ranking_epochs{suffix}.png"), "Synthetic label ranking: partial-rank rate against epochs",
            "epochs", "partial-rank rate (%)", curveSigmas.SelectMany(sigma => Losses.Select(l =>
            {
                RankingPoint[] line = points.Where(p => p.Loss == l.Name && p.Sigma == sigma).DistinctBy(p => p.Epochs).OrderBy(p => p.Epochs).ToArray();
                return ($"{l.Name}, σ = {sigma}", line.Select(p => (double)p.Epochs).ToArray(), line.Select(p => 100 * p.Partial).ToArray());
            })));
    }
}
