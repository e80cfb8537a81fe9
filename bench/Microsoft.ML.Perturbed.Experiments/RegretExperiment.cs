using System.Diagnostics;
using Microsoft.ML.Perturbed.Evaluation;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// The regret protocol of PyEPO's benchmarks (Tang &amp; Khalil), shared by the shortest path and the knapsack: for each
/// training size n, polynomial degree and noise half-width ε̄, each method trains a linear model (θ = W x + b, zero initial
/// weights unless the loss asks otherwise) with Adam, batch 32, on n instances and is scored on 1000 test instances by the
/// normalized regret Σ(regret)/Σ|z*| (<see cref="DecisionMetrics"/>), mean ± std over 10 seeds; epochs as PyEPO's paper:
/// 200 for 100 training instances, 20 for 1000. Methods (learning rate 1e-2 unless said): PFYL (Fenchel-Young, one normal
/// sample, ε = 1), SPO+, DBB (blackbox on the decision's true objective, λ = 20, lr 1e-1), NID (negative identity on it),
/// 2-stage (squared loss on the costs), I-MLE (PyEPO's tutorial: σ = 1, M = 10 Sum-of-Gamma samples, L1 loss on the
/// solutions, λ = 10 through nn.L1Loss's mean over the batch's 32 × d entries, so λ/(32·d) per row here), NCE, CMAP and
/// pointwise, pairwise and listwise LTR over a solution pool with PyEPO's solve ratio 0.05.
/// </summary>
public static class RegretExperiment
{
    /// <summary>The methods, in the tables' column order (the first five are the original shortest-path columns).</summary>
    public static readonly string[] Methods = ["PFYL", "SPO+", "DBB", "NID", "2-stage", "I-MLE", "NCE", "CMAP", "LTR-point", "LTR-pair", "LTR-list"];

    /// <summary>PyEPO's solve ratio for the losses over a solution pool.</summary>
    public const double PoolSolveRatio = 0.05;

    /// <summary>One benchmark: its head, its data generator (n, degree, ε̄, seed → features and true costs or values) and how it is written up.</summary>
    /// <param name="Name">File name stem and subcommand.</param>
    /// <param name="Label">The benchmark in words (the figure's title).</param>
    /// <param name="Generate">(instances, degree, ε̄, seed) → the instance's oracle, features [n × 5] and true costs (scores) [n × d].</param>
    /// <param name="DataSeed">(degree, ε̄, seed index) → the generator's seed.</param>
    /// <param name="Title">The table's title (a markdown heading's text).</param>
    /// <param name="Description">Lines under the command: the instance and what was published.</param>
    /// <param name="Published">Published normalized regrets at degree 4, ε̄ 0.5, n 1000, by method.</param>
    public sealed record Problem(string Name, string Label, Func<int, int, double, int, (Oracle Head, float[] X, float[] C)> Generate, Func<int, double, int, int> DataSeed,
        string Title, IReadOnlyList<string> Description, IReadOnlyDictionary<string, double> Published);

    /// <summary>Runs the grid (or its quick version), writes the table and figure, returns the cells.</summary>
    public static IReadOnlyList<RegretCell> Run(Problem problem, bool quick, string outDir, TextWriter log)
    {
        int[] trains = quick ? [100] : [100, 1000];
        int[] degrees = quick ? [2] : [1, 2, 4, 6];
        double[] noises = quick ? [0.5] : [0, 0.5];
        int seeds = quick ? 1 : 10, tests = quick ? 200 : 1000;
        var cells = new List<RegretCell>();
        foreach (int n in trains)
        foreach (int deg in degrees)
        foreach (double noise in noises)
        foreach (string method in Methods)
        {
            var regrets = new double[seeds];
            var watch = Stopwatch.StartNew();
            for (int seed = 0; seed < seeds; seed++)
            {
                (Oracle head, float[] x, float[] c) = problem.Generate(n + tests, deg, noise, problem.DataSeed(deg, noise, seed));
                regrets[seed] = TrainAndScore(head, method, x, c, n, tests, epochs: quick ? 10 : n <= 100 ? 200 : 20, seed);
            }
            double mean = regrets.Average(), std = Report.Std(regrets);
            var cell = new RegretCell(method, n, deg, noise, mean, std, watch.Elapsed.TotalSeconds / seeds);
            cells.Add(cell);
            log.WriteLine($"{problem.Name}: n {n}, deg {deg}, ε̄ {noise}: {method} normalized regret {mean:P2} ± {std:P2} ({cell.Seconds:F1} s per run)");
        }
        Directory.CreateDirectory(outDir);
        string suffix = quick ? "-quick" : "";
        File.WriteAllText(Path.Combine(outDir, $"{problem.Name}{suffix}.md"), Table(problem, cells, quick) + Report.FigureLinks(suffix, problem.Name));
        Figure(problem, cells, Path.Combine(outDir, $"{problem.Name}{suffix}.png"));
        return cells;
    }

    /// <summary>Trains one method on the first n instances and returns the normalized regret on the next <paramref name="tests"/>.</summary>
    public static double TrainAndScore(Oracle head, string method, float[] x, float[] c, int n, int tests, int epochs, int seed)
    {
        const int p = 5;
        int d = head.Dimension;
        float[] xTrain = x[..(n * p)], cTrain = c[..(n * d)], xTest = x[(n * p)..((n + tests) * p)], cTest = c[(n * d)..((n + tests) * d)];
        var solutions = new float[n * d];
        head.Solve(cTrain, solutions);
        // The decision's true objective as a loss of ŷ (targets: the true costs or values): ⟨ŷ, c⟩ for a cost head,
        // −⟨ŷ, s⟩ for a score head; what DBB and NID back-propagate.
        RowLoss objective = head.Sense == OptimizationSense.Minimize ? RowLosses.DecisionCost : RowLosses.NegativeInnerProduct;
        (StructuredTrainerOptions options, float[] targets) = method switch
        {
            "PFYL" => (new StructuredTrainerOptions { Loss = StructuredLossKind.FenchelYoung, Samples = 1, Epsilon = 1, LearningRate = 1e-2 }, solutions),
            "SPO+" => (new StructuredTrainerOptions { Loss = StructuredLossKind.SpoPlus, LearningRate = 1e-2 }, cTrain),
            "DBB" => (new StructuredTrainerOptions { LossFactory = h => new LayerLoss(new BlackboxLayer(h, 20), objective, "TrueCost"), LearningRate = 1e-1 }, cTrain),
            "NID" => (new StructuredTrainerOptions { LossFactory = h => new LayerLoss(new IdentityGradientLayer(h), objective, "TrueCost"), LearningRate = 1e-2 }, cTrain),
            "2-stage" => (new StructuredTrainerOptions { Loss = StructuredLossKind.SquaredScores, LearningRate = 1e-2 }, cTrain),
            "I-MLE" => (new StructuredTrainerOptions
            {
                LossFactory = h => new LayerLoss(new ImplicitMleLayer(h, sigma: 1, lambda: 10.0 / (32 * d), samples: 10, SumOfGammaNoise.Default, seed), L1, "L1"),
                LearningRate = 1e-2,
            }, solutions),
            "NCE" => (Pool(StructuredLossKind.NoiseContrastive), solutions),
            "CMAP" => (Pool(StructuredLossKind.ContrastiveMap), solutions),
            "LTR-point" => (Pool(StructuredLossKind.PointwiseRanking), cTrain),
            "LTR-pair" => (Pool(StructuredLossKind.PairwiseRanking), cTrain),
            "LTR-list" => (Pool(StructuredLossKind.ListwiseRanking), cTrain),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown method."),
        };
        options.NumberOfIterations = epochs;
        options.BatchSize = 32;
        options.Seed = seed;
        IScoreModel model = StructuredTrainer.Fit(head, xTrain, targets, p, options);
        var cHat = new float[cTest.Length];
        model.Score(xTest, cHat);
        return DecisionMetrics.Evaluate(head, cHat, cTest).NormalizedRegret;

        static StructuredTrainerOptions Pool(StructuredLossKind kind) => new() { Loss = kind, SolveRatio = PoolSolveRatio, LearningRate = 1e-2 };
    }

    /// <summary>PyEPO's nn.L1Loss on a row, summed: Σ|ŷ − y|, cotangent sign(ŷ − y) (0 where equal, as torch's).</summary>
    private static readonly RowLoss L1 = (solution, target, cotangent) =>
    {
        double sum = 0;
        for (int i = 0; i < solution.Length; i++)
        {
            double r = (double)solution[i] - target[i];
            cotangent[i] = Math.Sign(r);
            sum += Math.Abs(r);
        }
        return sum;
    };

    private static string Table(Problem problem, List<RegretCell> cells, bool quick)
    {
        var w = new StringWriter();
        w.WriteLine("# " + problem.Title + (quick ? " (quick smoke run)" : ""));
        w.WriteLine();
        w.WriteLine(Report.ProducedBy(problem.Name + (quick ? " --quick" : "")));
        w.WriteLine();
        foreach (string line in problem.Description) w.WriteLine(line);
        w.WriteLine();
        w.WriteLine($"| n | deg | ε̄ | {string.Join(" | ", Methods)} |");
        w.WriteLine($"|---|---|---|{string.Concat(Methods.Select(_ => "---|"))}");
        foreach (var g in cells.GroupBy(c => (c.Train, c.Degree, c.Noise)))
        {
            string Cell(string m)
            {
                RegretCell cell = g.Single(x => x.Method == m);
                string published = g.Key is (1000, 4, 0.5) && problem.Published.TryGetValue(m, out double v) ? $" ({v:P2})" : "";
                return $"{cell.Mean:P2} ± {cell.Std:P2}{published}";
            }
            w.WriteLine($"| {g.Key.Train} | {g.Key.Degree} | {g.Key.Noise} | {string.Join(" | ", Methods.Select(Cell))} |");
        }
        w.WriteLine();
        w.WriteLine($"Seconds per training run (mean over methods and cells): {cells.Average(c => c.Seconds):F2} s.");
        w.WriteLine();
        w.WriteLine("Seconds per training run by method (mean over cells; " + (quick ? "n 100" : "n 100 and 1000") + "): " +
            string.Join(", ", Methods.Select(m => $"{m} {cells.Where(c => c.Method == m).Average(c => c.Seconds):F2}")) + ".");
        return w.ToString();
    }

    /// <summary>
    /// The figure: regret against degree at the largest n and noise, ± the std over seeds; where that is the published
    /// setting (n 1000, ε̄ 0.5), the published regrets as open diamonds at degree 4.
    /// </summary>
    private static void Figure(Problem problem, List<RegretCell> cells, string path)
    {
        int n = cells.Max(c => c.Train);
        double noise = cells.Max(c => c.Noise);
        bool publishedSetting = n == 1000 && noise == 0.5;
        Report.Figure(path, $"PyEPO {problem.Label}: normalized regret vs polynomial degree (n = {n}, ε̄ = {noise}; ± std over seeds)", "degree", "normalized regret (%)",
            Methods.Select(method =>
            {
                RegretCell[] line = cells.Where(c => c.Method == method && c.Train == n && c.Noise == noise).OrderBy(c => c.Degree).ToArray();
                double[]? published = publishedSetting && problem.Published.TryGetValue(method, out double v)
                    ? line.Select(c => c.Degree == 4 ? 100 * v : double.NaN).ToArray()
                    : null;
                return new Series(method, line.Select(c => (double)c.Degree).ToArray(), line.Select(c => 100 * c.Mean).ToArray(),
                    line.Select(c => 100 * c.Std).ToArray(), published);
            }));
    }
}
