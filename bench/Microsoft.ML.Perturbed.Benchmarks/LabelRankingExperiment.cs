using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// 10-fold cross-validated Spearman correlation of the core structured trainer on the label-ranking sets of
/// ../shared/data/label_ranking (Berthet et al. 2020, appendix table 1), for each loss. Run with
/// <c>dotnet run -c Release --project bench/Microsoft.ML.Perturbed.Benchmarks -- labelranking [dataDir] [epochs]</c>.
/// </summary>
public static class LabelRankingExperiment
{
    private static readonly Dictionary<string, (double Fy, double Squared)> Published = new()
    {
        ["iris"] = (0.81, 0.81), ["wine"] = (0.94, 0.96), ["glass"] = (0.88, 0.86), ["housing"] = (0.75, 0.70),
        ["vehicle"] = (0.87, 0.84), ["stock"] = (0.77, 0.75), ["elevators"] = (0.79, 0.77),
    };

    public static int Run(string[] args)
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        string dir = args.Length > 1 ? args[1] : Path.Combine("..", "shared", "data", "label_ranking");
        int epochs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 50;
        double lambda = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 1.0;   // blackbox λ
        if (!Directory.Exists(dir))
        {
            Console.WriteLine($"Skipped: no label-ranking data at '{Path.GetFullPath(dir)}'.");
            return 0;
        }
        StructuredLossKind[] losses = Environment.GetEnvironmentVariable("LR_LOSSES") is { } only
            ? only.Split(',').Select(Enum.Parse<StructuredLossKind>).ToArray()
            : [StructuredLossKind.FenchelYoung, StructuredLossKind.SquaredScores, StructuredLossKind.PerturbedSquared, StructuredLossKind.Blackbox, StructuredLossKind.IdentityWithProjection];
        double learningRate = Environment.GetEnvironmentVariable("LR_RATE") is { } rate ? double.Parse(rate, CultureInfo.InvariantCulture) : 0.01;
        Layers.ScoreProjection projection = Environment.GetEnvironmentVariable("LR_PROJECTION") is { } pr ? Enum.Parse<Layers.ScoreProjection>(pr) : Layers.ScoreProjection.PlaneThenSphere;
        Console.WriteLine($"| data | rows | {string.Join(" | ", losses)} | published FY / squared | FY time |");
        Console.WriteLine($"|---|---|{string.Concat(losses.Select(_ => "---|"))}---|---|");
        foreach (string name in Published.Keys)
        {
            string path = Path.Combine(dir, name + ".csv");
            if (!File.Exists(path)) continue;
            (float[] x, float[] y, int n, int p, int d) = Load(path);
            var cells = new List<string>();
            string fyTime = "";
            foreach (StructuredLossKind loss in losses)
            {
                var sw = Stopwatch.StartNew();
                double rho = CrossValidate(x, y, n, p, d, loss, epochs, lambda, learningRate, projection);
                if (loss == StructuredLossKind.FenchelYoung) fyTime = $"{sw.Elapsed.TotalSeconds:F1} s";
                cells.Add($"{rho:F3}");
            }
            Console.WriteLine($"| {name} | {n} | {string.Join(" | ", cells)} | {Published[name].Fy:F2} / {Published[name].Squared:F2} | {fyTime} |");
        }
        return 0;
    }

    /// <summary>Reads A1..Ap, L1..Ld (rank 1 = most preferred), standardizes features, maps ranks to targets d + 1 − r.</summary>
    private static (float[] X, float[] Y, int N, int P, int D) Load(string path)
    {
        string[] lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        string[] header = lines[0].Split(',');
        int p = header.Count(h => h.StartsWith('A')), d = header.Count(h => h.StartsWith('L')), n = lines.Length - 1;
        var x = new float[n * p];
        var y = new float[n * d];
        for (int r = 0; r < n; r++)
        {
            string[] f = lines[r + 1].Split(',');
            for (int j = 0; j < p; j++) x[r * p + j] = float.Parse(f[j], CultureInfo.InvariantCulture);
            for (int k = 0; k < d; k++) y[r * d + k] = d + 1 - float.Parse(f[p + k], CultureInfo.InvariantCulture);
        }
        for (int j = 0; j < p; j++)
        {
            double mean = 0, sq = 0;
            for (int r = 0; r < n; r++) mean += x[r * p + j] / n;
            for (int r = 0; r < n; r++) sq += Math.Pow(x[r * p + j] - mean, 2) / n;
            double sd = Math.Sqrt(sq) + 1e-12;
            for (int r = 0; r < n; r++) x[r * p + j] = (float)((x[r * p + j] - mean) / sd);
        }
        return (x, y, n, p, d);
    }

    private static double CrossValidate(float[] x, float[] y, int n, int p, int d, StructuredLossKind loss, int epochs, double lambda, double learningRate, Layers.ScoreProjection projection)
    {
        const int folds = 10;
        int[] order = Enumerable.Range(0, n).ToArray();
        new System.Random(0).Shuffle(order);
        var head = new RankingOracle(d);
        double total = 0;
        for (int f = 0; f < folds; f++)
        {
            int[] test = order.Where((_, i) => i % folds == f).ToArray(), train = order.Where((_, i) => i % folds != f).ToArray();
            float[] xTrain = Gather(x, train, p), yTrain = Gather(y, train, d), xTest = Gather(x, test, p), yTest = Gather(y, test, d);
            AffineModel model = StructuredTrainer.Train(head, xTrain, yTrain, p, new StructuredTrainerOptions
            {
                Loss = loss, Epsilon = 1.0, Samples = 10, Epochs = epochs, LearningRate = learningRate, BatchSize = 32, Seed = f, BlackboxLambda = lambda, Projection = projection, TaskLoss = Environment.GetEnvironmentVariable("LR_TASKLOSS") is { } tl ? Enum.Parse<TaskLoss>(tl) : null,
            });
            var theta = new float[test.Length * d];
            model.Score(xTest, theta);
            var predicted = new float[test.Length * d];
            head.Solve(theta, predicted);
            double s = 0;
            for (int r = 0; r < test.Length; r++)
            {
                double sq = 0;
                for (int k = 0; k < d; k++) sq += Math.Pow(predicted[r * d + k] - yTest[r * d + k], 2);
                s += 1 - 6 * sq / (d * ((double)d * d - 1));
            }
            total += s / test.Length;
        }
        return total / folds;
    }

    private static float[] Gather(float[] data, int[] rows, int width)
    {
        var result = new float[rows.Length * width];
        for (int i = 0; i < rows.Length; i++) data.AsSpan(rows[i] * width, width).CopyTo(result.AsSpan(i * width, width));
        return result;
    }
}
