using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Sorting;
using Microsoft.ML.Perturbed.Numerics;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// One digit pair, training size and method: test accuracy, AUC and mean logistic loss, the λ chosen by cross-validation
/// and the time of the fits (λ search included). <see cref="Train"/> is the number of training rows, <see cref="All"/> whether
/// they are the whole 2/3 split; <see cref="TrainLogLoss"/> the mean logistic loss on them; <see cref="StartCorrelation"/>,
/// for SUQUAN, the correlation of the learned f with the target it starts from (the training mean; NaN for the others).
/// </summary>
public sealed record SuquanCell(int A, int B, int Train, bool All, string Method, double Accuracy, double Auc, double LogLoss, double TrainLogLoss,
    double Lambda, double Seconds, double StartCorrelation)
{
    /// <summary>The learning-curve key: 0 for the whole split, else the number of training rows.</summary>
    public int Size => All ? 0 : Train;
}

/// <summary>
/// Issue 25 item 1, SUQUAN (Le Morvan &amp; Vert 2017) on optdigits' 45 digit pairs under per-row monotone distortions of the
/// pixels: each row x (integers 0…16) becomes g(x) = a·((x + 1)/17)^γ + c with its own γ = e^{Z₁}, a = e^{Z₂}, c = 2Z₃
/// (Zᵢ standard normal, one seeded draw per row), increasing, so ranks and ties are kept and only the values change.
/// Per pair (the smaller digit is the negative class): a seeded split, 2/3 training and 1/3 test; trained on the whole
/// 2/3 (the main table) and on its first 50 and 150 rows (the learning curve; the test rows stay the same); five methods,
/// each an L2-regularized logistic regression (the same L-BFGS, the same mean-loss + λ/2 ‖w‖² objective), λ chosen from
/// {1e-5, 1e-4, 1e-3, 1e-2, 1e-1} by the mean logistic loss of 3-fold cross-validation on the training rows, then refitted on all of them:
/// no normalization (each pixel z-scored with training statistics), quantile normalization to fixed targets (uniform,
/// normal, the training mean of the sorted rows: <c>QuantileTarget.Learned</c>), each centred and scaled to ‖f‖² = 64,
/// and SUQUAN (10 alternations from the training mean) — the last four through
/// <c>mlContext.BinaryClassification.Trainers.SupervisedQuantileNormalization</c> (0 alternations = fixed target). A reference
/// column, no normalization on the undistorted pixels, shows what the distortion costs; QN to the training mean and SUQUAN
/// are also fitted at λ = 1e-3 for every size, to compare SUQUAN with its start at one λ. Quick: 3 pairs, 150 and all rows, λ = 1e-2.
/// </summary>
public static class SuquanExperiment
{
    /// <summary>The compared methods, in table order.</summary>
    public static readonly string[] Methods = ["no normalization", "QN uniform", "QN normal", "QN training mean", "SUQUAN"];

    /// <summary>The λ of the fixed-λ comparison of SUQUAN with its start.</summary>
    public const double FixedLambda = 1e-3;

    /// <summary>Appended to a method's name in the fixed-λ cells.</summary>
    public const string FixedSuffix = ", λ = 1e-3";

    /// <summary>The reference: no normalization on the undistorted pixels.</summary>
    public const string Undistorted = "undistorted, no normalization";

    private const int Pixels = 64;

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public bool Label { get; set; }
    }

    /// <summary>Runs the experiment (or its quick version) on optdigits; writes the table and figures; null when the file is missing.</summary>
    public static IReadOnlyList<SuquanCell>? Run(bool quick, string outDir, string dataPath, TextWriter log, int? trainSize = null)
    {
        if (!File.Exists(dataPath))
        {
            log.WriteLine($"suquan: data file '{dataPath}' not found (pass --data PATH).");
            return null;
        }
        (float[] clean, int[] labels, int p, _) = ClassificationExperiment.Load(dataPath);
        if (p != Pixels) throw new InvalidDataException($"'{dataPath}': expected {Pixels} pixel columns, found {p}.");
        float[] distorted = Distort(clean, p, seed: 2017);
        (int, int)[] pairs = quick ? [(3, 8), (1, 7), (4, 9)]
            : Enumerable.Range(0, 10).SelectMany(a => Enumerable.Range(a + 1, 9 - a).Select(b => (a, b))).ToArray();
        double[] lambdas = quick ? [1e-2] : [1e-5, 1e-4, 1e-3, 1e-2, 1e-1];
        (int, int) shown = (3, 8);
        int[] sizes = trainSize is { } only ? [only] : quick ? [150, 0] : [50, 150, 0];
        var cells = new List<SuquanCell>();
        var functions = new Dictionary<string, double[]>();
        var watch = Stopwatch.StartNew();
        var progress = new Microsoft.ML.Perturbed.Samples.ConsoleProgress(log, "suquan", pairs.Length, "pairs");
        foreach ((int a, int b) in pairs)
        {
            int[] rows = Enumerable.Range(0, labels.Length).Where(r => labels[r] == a || labels[r] == b).ToArray();
            new System.Random(1000 * a + b).Shuffle(rows);
            int split = rows.Length * 2 / 3;
            int[] testRows = rows[split..];
            foreach (int size in sizes)
            {
                int[] trainRows = rows[..(size == 0 ? split : size)];
                double[]? start = null;
                foreach (string method in Methods.Append(Undistorted))
                {
                    float[] x = method == Undistorted ? clean : distorted;
                    var fitWatch = Stopwatch.StartNew();
                    double lambda = lambdas.Length == 1 ? lambdas[0] : lambdas.MinBy(l => CrossValidatedLoss(method, l, x, labels, b, trainRows));
                    Result result = Score(method, lambda, Subset(x, labels, b, trainRows), Subset(x, labels, b, testRows));
                    if (method == "QN training mean") start = result.F;
                    double correlation = method == "SUQUAN" ? Correlation(result.F!, start!) : double.NaN;
                    var cell = new SuquanCell(a, b, trainRows.Length, size == 0, method, result.Accuracy, result.Auc, result.LogLoss, result.TrainLogLoss,
                        lambda, fitWatch.Elapsed.TotalSeconds, correlation);
                    cells.Add(cell);
                    if (result.F is not null && (a, b) == shown && size == 0) functions[method] = result.F;
                    log.WriteLine($"{a} vs {b}, {(size == 0 ? "all" : size)} rows, {method}: accuracy {result.Accuracy:P2}, AUC {result.Auc:F4}, log-loss {result.LogLoss:F4} (λ {lambda:G2})");
                }
                // The same two at one fixed λ: SUQUAN against its start with nothing chosen by validation.
                foreach (string method in new[] { "QN training mean", "SUQUAN" })
                {
                    Result result = Score(method, FixedLambda, Subset(distorted, labels, b, trainRows), Subset(distorted, labels, b, testRows));
                    cells.Add(new SuquanCell(a, b, trainRows.Length, size == 0, method + FixedSuffix, result.Accuracy, result.Auc, result.LogLoss, result.TrainLogLoss,
                        FixedLambda, 0, double.NaN));
                }
            }
            progress.Step($"{a} vs {b}: SUQUAN AUC {cells.Last(c => c.Method == "SUQUAN").Auc:F4}", always: true);
        }
        progress.Close();
        log.WriteLine($"suquan: {cells.Count} cells in {watch.Elapsed.TotalSeconds:F0} s");
        Directory.CreateDirectory(outDir);
        string suffix = quick ? "-quick" : "";
        File.WriteAllText(Path.Combine(outDir, $"suquan{suffix}.md"), SuquanReport.Table(cells, quick, Path.GetFileName(dataPath), shown, watch.Elapsed.TotalSeconds));
        SuquanReport.Figures(cells, functions, shown, outDir, suffix);
        return cells;
    }

    /// <summary>Each row through its own increasing map a·((x + 1)/17)^γ + c (seeded per data set, one draw per row).</summary>
    public static float[] Distort(float[] x, int p, int seed)
    {
        var rng = new System.Random(seed);
        var result = new float[x.Length];
        for (int r = 0; r < x.Length / p; r++)
        {
            double gamma = Math.Exp(Normal(rng)), scale = Math.Exp(Normal(rng)), shift = 2 * Normal(rng);
            for (int j = 0; j < p; j++) result[r * p + j] = (float)(scale * Math.Pow((x[r * p + j] + 1) / 17.0, gamma) + shift);
        }
        return result;
    }

    private static double Normal(System.Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static (float[] X, bool[] Y) Subset(float[] x, int[] labels, int positive, int[] rows)
    {
        var xs = new float[rows.Length * Pixels];
        for (int i = 0; i < rows.Length; i++) x.AsSpan(rows[i] * Pixels, Pixels).CopyTo(xs.AsSpan(i * Pixels, Pixels));
        return (xs, rows.Select(r => labels[r] == positive).ToArray());
    }

    private readonly record struct Result(double Accuracy, double Auc, double LogLoss, double TrainLogLoss, double[]? F);

    /// <summary>The mean test logistic loss of 3-fold cross-validation on <paramref name="rows"/> (folds by position; the rows are shuffled).</summary>
    private static double CrossValidatedLoss(string method, double lambda, float[] x, int[] labels, int positive, int[] rows)
    {
        double loss = 0;
        for (int fold = 0; fold < 3; fold++)
        {
            int[] held = rows.Where((_, i) => i % 3 == fold).ToArray(), kept = rows.Where((_, i) => i % 3 != fold).ToArray();
            loss += Score(method, lambda, Subset(x, labels, positive, kept), Subset(x, labels, positive, held)).LogLoss / 3;
        }
        return loss;
    }

    /// <summary>Fits a method on the training rows and scores the test rows: accuracy, AUC, mean logistic loss, and the quantile function used (null without one).</summary>
    private static Result Score(string method, double lambda, (float[] X, bool[] Y) train, (float[] X, bool[] Y) test)
    {
        if (method is "no normalization" or Undistorted)
        {
            double[][] scores = ZScoredLogisticRegression(train.X, train.Y, lambda, test.X, train.X);
            return new Result(Accuracy(scores[0], test.Y), Auc(scores[0], test.Y), LogLoss(scores[0], test.Y), LogLoss(scores[1], train.Y), null);
        }
        (int alternations, QuantileTarget start) = method switch
        {
            "QN uniform" => (0, QuantileTarget.Uniform),
            "QN normal" => (0, QuantileTarget.Normal),
            "QN training mean" => (0, QuantileTarget.Learned),
            "SUQUAN" => (SupervisedQuantileOptions.DefaultAlternations, QuantileTarget.Learned),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown method."),
        };
        var ml = new MLContext(seed: 0);
        var model = ml.BinaryClassification.Trainers.SupervisedQuantileNormalization(numberOfAlternations: alternations, l2Regularization: lambda, initialTarget: start)
            .Fit(View(ml, train));
        double[] score = model.Transform(View(ml, test)).GetColumn<float>("Score").Select(v => (double)v).ToArray();
        double[] trainScore = model.Transform(View(ml, train)).GetColumn<float>("Score").Select(v => (double)v).ToArray();
        double[] f = ((SoftSortingTransformer)model.First()).GetTargets("QuantileNormalizedFeatures").ToArray();
        return new Result(Accuracy(score, test.Y), Auc(score, test.Y), LogLoss(score, test.Y), LogLoss(trainScore, train.Y), f);
    }

    private static IDataView View(MLContext ml, (float[] X, bool[] Y) data)
    {
        var definition = SchemaDefinition.Create(typeof(Row));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Pixels);
        return ml.Data.LoadFromEnumerable(Enumerable.Range(0, data.Y.Length)
            .Select(r => new Row { Features = data.X.AsSpan(r * Pixels, Pixels).ToArray(), Label = data.Y[r] }).ToList(), definition);
    }

    /// <summary>
    /// Logistic regression on the pixels z-scored with the training statistics, minimizing the same objective as SUQUAN's
    /// w-step ((1/N) Σ log(1 + e^{−y s}) + λ/2 ‖w‖²) with the same L-BFGS; returns the scores of each row set.
    /// </summary>
    private static double[][] ZScoredLogisticRegression(float[] trainX, bool[] trainY, double lambda, params float[][] scored)
    {
        int n = trainY.Length;
        var mean = new double[Pixels];
        var scale = new double[Pixels];
        for (int j = 0; j < Pixels; j++)
        {
            for (int r = 0; r < n; r++) mean[j] += trainX[r * Pixels + j] / (double)n;
            for (int r = 0; r < n; r++) scale[j] += Math.Pow(trainX[r * Pixels + j] - mean[j], 2) / n;
            scale[j] = scale[j] > 0 ? 1 / Math.Sqrt(scale[j]) : 0;   // a constant pixel carries nothing
        }
        double[][] Standardize(float[] x) => Enumerable.Range(0, x.Length / Pixels)
            .Select(r => Enumerable.Range(0, Pixels).Select(j => (x[r * Pixels + j] - mean[j]) * scale[j]).ToArray()).ToArray();
        double[][] rows = Standardize(trainX);
        var theta = new double[Pixels + 1];
        var residual = new double[1];
        Lbfgs.Minimize((t, gradient) =>
        {
            Array.Clear(gradient);
            double loss = 0;
            for (int r = 0; r < n; r++)
            {
                double s = SpanMath.Dot(t.AsSpan(0, Pixels), rows[r]) + t[Pixels];
                loss += SupervisedQuantileObjective.Loss([s], trainY[r] ? 1 : 0, residual);
                SpanMath.AddScaled(gradient.AsSpan(0, Pixels), rows[r], residual[0] / n);
                gradient[Pixels] += residual[0] / n;
            }
            SpanMath.AddScaled(gradient.AsSpan(0, Pixels), t.AsSpan(0, Pixels), lambda);
            return loss / n + 0.5 * lambda * SpanMath.Dot(t.AsSpan(0, Pixels), t.AsSpan(0, Pixels));
        }, theta, 200, 1e-7);
        return scored.Select(x => Standardize(x).Select(row => SpanMath.Dot(theta.AsSpan(0, Pixels), row) + theta[Pixels]).ToArray()).ToArray();
    }

    private static double Correlation(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average(), ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            ab += (a[i] - ma) * (b[i] - mb);
            aa += (a[i] - ma) * (a[i] - ma);
            bb += (b[i] - mb) * (b[i] - mb);
        }
        return ab / Math.Sqrt(aa * bb);
    }

    private static double LogLoss(double[] scores, bool[] y) =>
        scores.Zip(y, (s, t) => SupervisedQuantileObjective.Loss([s], t ? 1 : 0, new double[1])).Average();

    private static double Accuracy(double[] scores, bool[] y) => scores.Zip(y, (s, t) => (s > 0) == t).Count(c => c) / (double)y.Length;

    /// <summary>The area under the ROC curve: the rate of (positive, negative) pairs ranked right, ties counting half.</summary>
    public static double Auc(double[] scores, bool[] y)
    {
        int[] order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        double rankSum = 0;
        int positives = 0;
        for (int k = 0; k < order.Length;)
        {
            int end = k;
            while (end < order.Length && scores[order[end]] == scores[order[k]]) end++;
            double rank = (k + 1 + end) / 2.0;   // mid-rank of the tie run
            for (int i = k; i < end; i++)
            {
                if (!y[order[i]]) continue;
                rankSum += rank;
                positives++;
            }
            k = end;
        }
        int negatives = y.Length - positives;
        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }
}
