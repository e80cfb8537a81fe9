using System.Diagnostics;
using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// One least-quantile run: a method at a level τ and seed, the exact τ-quantile of the absolute errors on train and test,
/// the test MSE over every row and over the clean (non-outlier) rows, and the test errors' quantile function.
/// </summary>
public sealed record QuantilePoint(string Method, double Level, int Seed, double TrainQuantile, double TestQuantile, double TestMse, double CleanTestMse,
    double[] TestErrorQuantiles, double Seconds);

/// <summary>
/// Cuturi, Teboul &amp; Vert 2019, §5 "least quantile regression": minimize over θ the soft τ-quantile of the absolute
/// residuals |zᵢ − f_θ(wᵢ)| of a mini-batch of 512 (Sinkhorn's quantile operator, filler weight t = 1/512), against the
/// squared loss and the "ε = 0" baseline that steps on the residual(s) of the exact quantile; τ ∈ {50 %, 90 %}; a
/// 2-hidden-layer MLP (64, 64, ReLU), Adam. The paper's regression sets are not in ../shared/data (it holds label-ranking
/// and classification sets only), so the data are generated: w ∈ U[−1, 1]⁸, z = sin(πw₀) + w₁w₂ + w₃² − 0.5w₄ + 0.3w₅ +
/// N(0, 0.2²), and 5 % of the rows (train and test alike) gross outliers, z + U(5, 20). 8192 training and 4096 test rows,
/// Adam lr 1e-3, 150 epochs (2400 steps), three seeds (data, initial weights and shuffles). Reports the exact τ-quantile
/// of |error| on train and test (the order statistic ⌈τn⌉), the test MSE (all rows and clean rows), mean ± std.
/// </summary>
public static class LeastQuantileExperiment
{
    private const int Features = 8;

    /// <summary>The levels τ.</summary>
    public static readonly double[] Levels = [0.5, 0.9];

    /// <summary>The methods: name and the loss factory for a level (null: the squared loss of the scores).</summary>
    public static readonly (string Name, Func<double, StructuredLoss>? Loss)[] Methods =
    [
        ("squared loss", null),
        ("soft quantile, Sinkhorn ε = 1e-1", level => Soft(level, 1e-1)),
        ("soft quantile, Sinkhorn ε = 1e-2", level => Soft(level, 1e-2)),
        ("ε = 0 (exact quantile)", level => LeastQuantileLoss.Exact(level)),
    ];

    private static StructuredLoss Soft(double level, double epsilon) =>
        StructuredLoss.LeastQuantile(new StructuredLossOptions { QuantileLevel = level, SoftRankMethod = SoftRankingMethod.Sinkhorn, Epsilon = epsilon });

    /// <summary>The one-output head of regression: the prediction is the score.</summary>
    public static Oracle Head { get; } = Oracle.Create(1, 1, static (theta, y) => theta.CopyTo(y), "Regression");

    /// <summary>The generated rows: features, responses, and which rows are outliers.</summary>
    public static (float[] X, float[] Z, bool[] Outlier) Data(int rows, int seed)
    {
        var rng = new System.Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var x = new float[rows * Features];
        var z = new float[rows];
        var outlier = new bool[rows];
        for (int r = 0; r < rows; r++)
        {
            Span<float> w = x.AsSpan(r * Features, Features);
            for (int j = 0; j < Features; j++) w[j] = (float)(2 * rng.NextDouble() - 1);
            double f = Math.Sin(Math.PI * w[0]) + w[1] * w[2] + w[3] * w[3] - 0.5 * w[4] + 0.3 * w[5];
            outlier[r] = rng.NextDouble() < 0.05;
            z[r] = (float)(f + 0.2 * Normal() + (outlier[r] ? 5 + 15 * rng.NextDouble() : 0));
        }
        return (x, z, outlier);
    }

    /// <summary>Runs the experiment (or its quick version), writes the table and figure, returns the runs.</summary>
    public static IReadOnlyList<QuantilePoint> Run(bool quick, string outDir, TextWriter log)
    {
        int train = quick ? 1024 : 8192, test = quick ? 512 : 4096, epochs = quick ? 4 : 150, seeds = quick ? 1 : 3;
        int batch = quick ? 256 : 512;
        var points = new List<QuantilePoint>();
        var total = Stopwatch.StartNew();
        for (int seed = 0; seed < seeds; seed++)
        {
            (float[] x, float[] z, bool[] outlier) = Data(train + test, 100 + seed);
            float[] xTrain = x[..(train * Features)], zTrain = z[..train], xTest = x[(train * Features)..], zTest = z[train..];
            bool[] clean = outlier[train..].Select(o => !o).ToArray();
            foreach ((string name, Func<double, StructuredLoss>? loss) in Methods)
            {
                foreach (double level in loss is null ? [Levels[0]] : Levels)
                {
                    var options = new StructuredTrainerOptions
                    {
                        HiddenLayers = [64, 64], LearningRate = 1e-3, BatchSize = batch, NumberOfIterations = epochs, Seed = seed,
                        Loss = StructuredLossKind.SquaredScores,
                    };
                    if (loss is not null) options.LossFactory = _ => loss(level);
                    var watch = Stopwatch.StartNew();
                    IScoreModel model = StructuredTrainer.Fit(Head, TrainingSource.FromArrays(xTrain, zTrain, Features, 1), options);
                    double seconds = watch.Elapsed.TotalSeconds;
                    double[] trainErrors = Errors(model, xTrain, zTrain), testErrors = Errors(model, xTest, zTest);
                    // The squared loss does not depend on τ: one run, scored at every level.
                    foreach (double scored in loss is null ? Levels : [level])
                    {
                        var point = new QuantilePoint(name, scored, seed, Quantile(trainErrors, scored), Quantile(testErrors, scored), testErrors.Average(e => e * e),
                            testErrors.Where((_, r) => clean[r]).Average(e => e * e), Enumerable.Range(1, 99).Select(i => Quantile(testErrors, i / 100.0)).ToArray(), seconds);
                        points.Add(point);
                        log.WriteLine($"seed {seed}, τ {scored:P0}, {name}: exact τ-quantile of |error| train {point.TrainQuantile:F4}, test {point.TestQuantile:F4}; test MSE {point.TestMse:F3} (clean rows {point.CleanTestMse:F4}) ({seconds:F1} s)");
                    }
                }
            }
        }
        log.WriteLine($"leastquantile: {points.Count} results in {total.Elapsed.TotalSeconds:F0} s");
        Directory.CreateDirectory(outDir);
        string suffix = quick ? "-quick" : "";
        File.WriteAllText(Path.Combine(outDir, $"leastquantile{suffix}.md"), Table(points, train, test, epochs, batch, seeds, quick)
            + Report.FigureLinks(suffix, "leastquantile_tau50", "leastquantile_tau90"));
        foreach (double level in Levels)
        {
            Report.Lines(Path.Combine(outDir, $"leastquantile_tau{100 * level:F0}{suffix}.png"), $"Generated data with 5 % outliers, τ = {level:P0}: quantiles of the test |error|",
                "level of the quantile of |error| (%)", "log10 |error|", Methods.Select(m => (m.Name, Enumerable.Range(1, 99).Select(i => (double)i).ToArray(),
                    Enumerable.Range(0, 99).Select(i => Math.Log10(points.Where(q => q.Method == m.Name && q.Level == level).Average(q => q.TestErrorQuantiles[i]))).ToArray())));
        }
        return points;
    }

    private static double[] Errors(IScoreModel model, float[] x, float[] z)
    {
        var prediction = new float[z.Length];
        model.Score(x, prediction);
        return z.Select((v, r) => Math.Abs((double)prediction[r] - v)).ToArray();
    }

    /// <summary>The exact τ-quantile: the ⌈τn⌉-th smallest value.</summary>
    internal static double Quantile(double[] values, double level)
    {
        double[] sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(level * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static string Table(List<QuantilePoint> points, int train, int test, int epochs, int batch, int seeds, bool quick)
    {
        var w = new StringWriter();
        w.WriteLine("# Least-quantile regression, Cuturi et al. 2019 §5 protocol on generated data with outliers" + (quick ? " (quick smoke run)" : ""));
        w.WriteLine();
        w.WriteLine(Report.ProducedBy("leastquantile" + (quick ? " --quick" : "")));
        w.WriteLine();
        w.WriteLine($"{train} training and {test} test rows generated with 5 % gross outliers (no regression set in ../shared/data;");
        w.WriteLine($"protocol in LeastQuantileExperiment), MLP 64-64 ReLU, Adam lr 1e-3, batch {batch}, {epochs} epochs, window t = 1/{batch}, {seeds} seed{(seeds > 1 ? "s" : "")}");
        w.WriteLine("(mean ± std). The exact τ-quantile of |error| is the ⌈τn⌉-th smallest. The paper's own numbers (UCI regression sets) are not");
        w.WriteLine("in the reference material available here: no published column.");
        foreach (double level in Levels)
        {
            w.WriteLine();
            w.WriteLine($"## τ = {level:P0}");
            w.WriteLine();
            w.WriteLine("| method | train τ-quantile of \\|error\\| | test τ-quantile of \\|error\\| | test MSE | test MSE, clean rows | s per run |");
            w.WriteLine("|---|---|---|---|---|---|");
            foreach ((string name, _) in Methods)
            {
                QuantilePoint[] runs = points.Where(q => q.Method == name && q.Level == level).ToArray();
                string Cell(Func<QuantilePoint, double> metric, string format) =>
                    $"{runs.Average(metric).ToString(format)} ± {Report.Std(runs.Select(metric).ToArray()).ToString(format)}";
                w.WriteLine($"| {name} | {Cell(q => q.TrainQuantile, "F4")} | {Cell(q => q.TestQuantile, "F4")} | {Cell(q => q.TestMse, "F3")} | {Cell(q => q.CleanTestMse, "F4")} | {runs.Average(q => q.Seconds):F1} |");
            }
        }
        return w.ToString();
    }
}
