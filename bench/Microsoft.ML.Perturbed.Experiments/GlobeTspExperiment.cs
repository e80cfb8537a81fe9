using System.Diagnostics;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>One method at one tour size: test tour accuracy, suboptimality and the predicted costs' scale, over seeds.</summary>
public sealed record GlobeTspCell(int Cities, string Method, double Accuracy, double AccuracyStd, double Suboptimality, double SuboptimalityStd,
    double MeanCost, double MeanCostStd, double CostSpread, double CostSpreadStd, double Seconds);

/// <summary>
/// A Globe-TSP analogue (Sahoo et al. 2023, Tables 1 and 5, Figs. 3–4; the task of Vlastelica et al. 2020). A fixed world
/// of 100 countries: each has a hidden location uᶜ on the unit sphere and a "flag", p = 16 features
/// tanh(A uᶜ + b) + 0.1 ξᶜ (A, b, ξ Gaussian, drawn once), so the location is a noisy nonlinear function of the flag. An
/// instance is k distinct countries (k = 5, 10); its label is the exact optimal tour under the chord distances ‖uᵢ − uⱼ‖
/// (<see cref="Oracle.TravelingSalesman"/>, Held–Karp). The model is one MLP shared by the countries (16 → 64 → 3, ReLU)
/// whose k points give the k(k − 1)/2 predicted distances, the TSP head's costs (<see cref="GlobeTspModel"/>); no
/// coordinate or distance is ever a target, only tours. Methods: Fenchel-Young with the perturbed TSP oracle; blackbox;
/// identity with projection and margin (Sahoo et al.), and its ablations without the margin and without the projection.
/// Measured on unseen subsets: exact tour accuracy (the predicted tour's edge set equals the optimal one, i.e. the same
/// cycle in either direction), suboptimality (true length of the predicted tour over the optimal, minus 1), and the scale
/// of the predicted costs (their mean, and their coefficient of variation within a tour — the "cost collapse").
/// </summary>
public static class GlobeTspExperiment
{
    /// <summary>Countries in the world.</summary>
    public const int Countries = 100;

    /// <summary>Features of a flag.</summary>
    public const int FlagFeatures = 16;

    /// <summary>The hidden layer of the shared embedding network.</summary>
    public const int Hidden = 64;

    /// <summary>Perturbation scale of Fenchel-Young (in units of the predicted distances, which start around 0.5).</summary>
    public const double FyEpsilon = 0.1;

    /// <summary>Blackbox's interpolation step λ (relative: the scores are projected onto the unit sphere first).</summary>
    public const double BlackboxLambda = 0.1;

    /// <summary>Margin α of identity with projection: ±α/2 on each cost before the projections.</summary>
    public const double Margin = 0.1;

    /// <summary>Adam's learning rate, every method.</summary>
    public const double LearningRate = 1e-3;

    /// <summary>The methods: name and settings (the loss kind's other settings at the library's defaults).</summary>
    public static readonly (string Name, Func<StructuredTrainerOptions> Options)[] Methods =
    [
        ("Fenchel-Young", () => new() { Loss = StructuredLossKind.FenchelYoung, Epsilon = FyEpsilon, Samples = 10 }),
        ("blackbox", () => new() { Loss = StructuredLossKind.Blackbox, BlackboxLambda = BlackboxLambda }),
        ("identity + projection + margin", () => new() { Loss = StructuredLossKind.IdentityWithProjection, Margin = Margin }),
        ("identity + projection", () => new() { Loss = StructuredLossKind.IdentityWithProjection, Margin = 0 }),
        ("identity + margin", () => new() { Loss = StructuredLossKind.IdentityWithProjection, Projection = ScoreProjection.None, Margin = Margin }),
        ("identity (neither)", () => new() { Loss = StructuredLossKind.IdentityWithProjection, Projection = ScoreProjection.None, Margin = 0 }),
    ];

    /// <summary>The reference row of the true distances.</summary>
    public const string TrueCosts = "(true distances)";

    /// <summary>The reference row of the untrained network.</summary>
    public const string Untrained = "(untrained network)";

    /// <summary>Runs the grid (quick: k = 5, two methods, one seed, 200 training tours, 3 epochs), writes globe_tsp.md and its figures.</summary>
    public static IReadOnlyList<GlobeTspCell> Run(bool quick, string outDir, TextWriter log, int? seedCount = null, int? epochCount = null, int? trainCount = null)
    {
        int[] sizes = quick ? [5] : [5, 10];
        int seeds = seedCount ?? (quick ? 1 : 3), epochs = epochCount ?? (quick ? 3 : 30), train = trainCount ?? (quick ? 200 : 2000), tests = quick ? 100 : 1000;
        var methods = quick ? Methods.Where(m => m.Name is "Fenchel-Young" or "identity + projection + margin").ToArray() : Methods;
        World world = World.Create(0);
        var cells = new List<GlobeTspCell>();
        foreach (int k in sizes)
        {
            // References on the test subsets of seed 1: the true distances (accuracy 1 by definition; their scale and spread) and
            // the untrained network (chance level; the scale training starts from).
            Oracle head = Oracle.TravelingSalesman(k);
            (float[] x0, float[] c0) = world.Instances(k, tests, 1000 + k + 500);
            foreach (var (name, model) in new (string, IScoreModel)[]
            {
                (TrueCosts, new FixedCosts(c0, head.Dimension, k * FlagFeatures)),
                (Untrained, new GlobeTspModel(MlpModel.Random(FlagFeatures, [Hidden], 3, 1), k)),
            })
            {
                var (accuracy, gap, mean, spread) = Score(head, model, x0, c0);
                cells.Add(new GlobeTspCell(k, name, accuracy, 0, gap, 0, mean, 0, spread, 0, 0));
            }
            foreach (var (name, make) in methods)
            {
                var watch = Stopwatch.StartNew();
                var runs = new List<(double Accuracy, double Suboptimality, double Mean, double Spread)>();
                for (int seed = 1; seed <= seeds; seed++) runs.Add(TrainAndScore(world, k, make(), train, tests, epochs, seed));
                var cell = new GlobeTspCell(k, name, runs.Average(r => r.Accuracy), Report.Std(runs.Select(r => r.Accuracy).ToArray()),
                    runs.Average(r => r.Suboptimality), Report.Std(runs.Select(r => r.Suboptimality).ToArray()),
                    runs.Average(r => r.Mean), Report.Std(runs.Select(r => r.Mean).ToArray()),
                    runs.Average(r => r.Spread), Report.Std(runs.Select(r => r.Spread).ToArray()), watch.Elapsed.TotalSeconds / seeds);
                cells.Add(cell);
                log.WriteLine($"globetsp: k {k}, {name}: tour accuracy {cell.Accuracy:P1} ± {cell.AccuracyStd:P1}, suboptimality {cell.Suboptimality:P2}, " +
                    $"mean cost {cell.MeanCost:G3}, spread {cell.CostSpread:F3} ({cell.Seconds:F1} s per run)");
            }
        }
        Directory.CreateDirectory(outDir);
        string suffix = quick ? "-quick" : "";
        File.WriteAllText(Path.Combine(outDir, $"globe_tsp{suffix}.md"), GlobeTspReport.Table(cells, seeds, epochs, train, tests, quick)
            + Report.FigureLinks(suffix, "globe_tsp_accuracy", "globe_tsp_costs"));
        GlobeTspReport.Figures(cells, outDir, suffix);
        return cells;
    }

    /// <summary>Trains one method on <paramref name="train"/> random k-subsets and scores it on <paramref name="tests"/> others.</summary>
    public static (double Accuracy, double Suboptimality, double MeanCost, double CostSpread) TrainAndScore(World world, int k, StructuredTrainerOptions options, int train, int tests, int epochs, int seed)
    {
        Oracle head = Oracle.TravelingSalesman(k);
        (float[] xTrain, float[] cTrain) = world.Instances(k, train, 1000 * seed + k);
        (float[] xTest, float[] cTest) = world.Instances(k, tests, 1000 * seed + k + 500);
        var tours = new float[cTrain.Length];
        head.Solve(cTrain, tours);
        options.NumberOfIterations = epochs;
        options.BatchSize = 32;
        options.LearningRate = LearningRate;
        options.Seed = seed;
        options.ModelFactory = (_, _) => new GlobeTspModel(MlpModel.Random(FlagFeatures, [Hidden], 3, seed), k);
        IScoreModel model = StructuredTrainer.Fit(head, xTrain, tours, k * FlagFeatures, options);
        return Score(head, model, xTest, cTest);
    }

    /// <summary>Tour accuracy, mean suboptimality, mean predicted cost and the mean within-tour coefficient of variation of the predicted costs.</summary>
    public static (double Accuracy, double Suboptimality, double MeanCost, double CostSpread) Score(Oracle head, IScoreModel model, float[] x, float[] c)
    {
        int d = head.Dimension, n = c.Length / d;
        var cHat = new float[c.Length];
        model.Score(x, cHat);
        float[] best = new float[c.Length], predicted = new float[c.Length];
        head.Solve(c, best);
        head.Solve(cHat, predicted);
        double hits = 0, gap = 0, mean = 0, spread = 0;
        for (int r = 0; r < n; r++)
        {
            var row = new Range(r * d, (r + 1) * d);
            ReadOnlySpan<float> truth = c.AsSpan(row), yBest = best.AsSpan(row), yHat = predicted.AsSpan(row), costs = cHat.AsSpan(row);
            if (yBest.SequenceEqual(yHat)) hits++;
            double optimal = 0, length = 0, sum = 0, squares = 0;
            for (int e = 0; e < d; e++)
            {
                optimal += yBest[e] * truth[e];
                length += yHat[e] * truth[e];
                sum += costs[e];
                squares += (double)costs[e] * costs[e];
            }
            gap += length / optimal - 1;
            double m = sum / d;
            mean += m;
            spread += m > 0 ? Math.Sqrt(Math.Max(0, squares / d - m * m)) / m : 0;
        }
        return (hits / n, gap / n, mean / n, spread / n);
    }

    /// <summary>A score model that returns given costs row by row (the features only count the rows).</summary>
    private sealed class FixedCosts(float[] costs, int outputs, int features) : IScoreModel
    {
        public int Features => features;

        public int Outputs => outputs;

        public void Score(ReadOnlySpan<float> x, Span<float> theta) => costs.AsSpan(0, x.Length / features * outputs).CopyTo(theta);
    }

    /// <summary>The fixed world: the countries' hidden points on the unit sphere and their flags.</summary>
    public sealed record World(float[] Points, float[] Flags)
    {
        /// <summary>Draws the world from <paramref name="seed"/>.</summary>
        public static World Create(int seed)
        {
            var random = new System.Random(seed);
            var points = new float[Countries * 3];
            for (int c = 0; c < Countries; c++)
            {
                double x = Gaussian(random), y = Gaussian(random), z = Gaussian(random), norm = Math.Sqrt(x * x + y * y + z * z);
                (points[c * 3], points[c * 3 + 1], points[c * 3 + 2]) = ((float)(x / norm), (float)(y / norm), (float)(z / norm));
            }
            var a = new double[FlagFeatures * 3];
            var b = new double[FlagFeatures];
            for (int i = 0; i < a.Length; i++) a[i] = 1.5 * Gaussian(random);
            for (int i = 0; i < b.Length; i++) b[i] = 0.5 * Gaussian(random);
            var flags = new float[Countries * FlagFeatures];
            for (int c = 0; c < Countries; c++)
            {
                for (int f = 0; f < FlagFeatures; f++)
                {
                    double s = b[f];
                    for (int t = 0; t < 3; t++) s += a[f * 3 + t] * points[c * 3 + t];
                    flags[c * FlagFeatures + f] = (float)(Math.Tanh(s) + 0.1 * Gaussian(random));
                }
            }
            return new World(points, flags);
        }

        /// <summary>n instances of k distinct countries: their flags side by side and the true chord distances (the TSP head's edge order).</summary>
        public (float[] Features, float[] Costs) Instances(int k, int n, int seed)
        {
            var random = new System.Random(seed);
            int d = k * (k - 1) / 2;
            var features = new float[n * k * FlagFeatures];
            var costs = new float[n * d];
            int[] order = Enumerable.Range(0, Countries).ToArray();
            for (int r = 0; r < n; r++)
            {
                for (int i = 0; i < k; i++)
                {
                    int j = random.Next(i, Countries);   // partial Fisher–Yates: the first k entries are a uniform k-subset
                    (order[i], order[j]) = (order[j], order[i]);
                    Flags.AsSpan(order[i] * FlagFeatures, FlagFeatures).CopyTo(features.AsSpan((r * k + i) * FlagFeatures));
                }
                for (int i = 0, e = 0; i < k; i++)
                {
                    for (int j = i + 1; j < k; j++, e++)
                    {
                        double sum = 0;
                        for (int t = 0; t < 3; t++)
                        {
                            double delta = Points[order[i] * 3 + t] - Points[order[j] * 3 + t];
                            sum += delta * delta;
                        }
                        costs[r * d + e] = (float)Math.Sqrt(sum);
                    }
                }
            }
            return (features, costs);
        }

        private static double Gaussian(System.Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
    }
}
