using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>One classification run: a method at a noise scale ε after some epochs, its accuracies, Fenchel-Young losses and squared losses ‖ŷ_ε − y‖².</summary>
public sealed record ClassificationPoint(string Method, double Epsilon, int Epochs, double TrainAccuracy, double TestAccuracy, double TrainLoss, double TestLoss,
    double TrainSquared, double TestSquared);

/// <summary>
/// Berthet et al. 2020, Figure 2 (there CIFAR-10 and a CNN), run on optdigits with the affine model: the perturbed
/// Fenchel-Young loss over the argmax head with normal noise and M = 1 or M = 1000 samples, against cross-entropy with
/// the same model — the Fenchel-Young loss under Gumbel noise, whose perturbed argmax is exactly softmax(θ/ε) (at ε = 1
/// the softmax cross-entropy itself, up to a constant). Features scaled to [0, 1]; a seeded split of the rows into
/// 3823 training and 1797 test rows (the sizes of the UCI split); Adam, lr 1e-2, batch 32, 30 epochs; one run per
/// setting. Reports train/test accuracy against epochs at ε = 1, and final train/test accuracy and loss over
/// ε ∈ {0.01, 0.03, …, 100}.
/// </summary>
public static class ClassificationExperiment
{
    private static readonly (string Name, NoiseDistribution Noise, int Samples)[] Methods =
    [
        ("FY normal, M = 1", NoiseDistribution.Normal, 1), ("FY normal, M = 1000", NoiseDistribution.Normal, 1000),
        ("cross-entropy (Gumbel, exact)", NoiseDistribution.Gumbel, 1),
    ];

    /// <summary>The default data file, beside the repository: ../shared/data/classification/optdigits.csv.</summary>
    public static string DefaultData => Path.Combine("..", "shared", "data", "classification", "optdigits.csv");

    /// <summary>Reads a CSV with a header line, numeric features and an integer class label 0..k−1 in the last column.</summary>
    public static (float[] Features, int[] Labels, int FeatureCount, int Classes) Load(string path)
    {
        string[] lines = File.ReadAllLines(path);
        if (lines.Length < 2) throw new InvalidDataException($"'{path}' holds no data rows.");
        int p = lines[0].Split(',').Length - 1;
        var x = new List<float>();
        var y = new List<int>();
        for (int r = 1; r < lines.Length; r++)
        {
            if (lines[r].Length == 0) continue;
            string[] f = lines[r].Split(',');
            if (f.Length != p + 1) throw new InvalidDataException($"'{path}' line {r + 1}: expected {p + 1} fields, found {f.Length}.");
            for (int j = 0; j < p; j++) x.Add(float.Parse(f[j], CultureInfo.InvariantCulture));
            int label = int.Parse(f[p], CultureInfo.InvariantCulture);
            if (label < 0) throw new InvalidDataException($"'{path}' line {r + 1}: expected a class label ≥ 0, found {label}.");
            y.Add(label);
        }
        return (x.ToArray(), y.ToArray(), p, y.Max() + 1);
    }

    /// <summary>Runs the experiment on a data file (or its quick version), writes the table and figures; null when the file is missing.</summary>
    public static IReadOnlyList<ClassificationPoint>? Run(bool quick, string outDir, string dataPath, TextWriter log)
    {
        if (!File.Exists(dataPath))
        {
            log.WriteLine($"classification: data file '{dataPath}' not found (pass --data PATH).");
            return null;
        }
        (float[] x, int[] y, int p, int k) = Load(dataPath);
        int n = y.Length;
        float max = x.Max();
        if (max > 0) for (int i = 0; i < x.Length; i++) x[i] /= max;
        // A seeded split in UCI's proportions (3823 / 1797 of optdigits' 5620 rows; quick: 1000 / 500).
        int[] order = Enumerable.Range(0, n).ToArray();
        new System.Random(0).Shuffle(order);
        int train = quick ? Math.Min(1000, n / 2) : (int)Math.Round(n * 3823.0 / 5620), test = quick ? Math.Min(500, n - train) : n - train;
        (float[] xTrain, float[] yTrain, int[] cTrain) = Rows(x, y, p, k, order[..train]);
        (float[] xTest, float[] yTest, int[] cTest) = Rows(x, y, p, k, order[train..(train + test)]);

        int epochs = quick ? 3 : 30;
        int[] checkpoints = quick ? [1, 3] : [1, 2, 5, 10, 20, 30];
        double[] epsilons = quick ? [0.1, 1, 10] : [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100];
        var head = new ArgmaxOracle(k);
        var points = new List<ClassificationPoint>();
        var watch = Stopwatch.StartNew();
        foreach (var method in Methods)
        {
            foreach (int e in checkpoints) points.Add(Point(head, method, 1.0, e, xTrain, yTrain, cTrain, xTest, yTest, cTest, p, log));
            foreach (double eps in epsilons)
            {
                if (eps == 1.0 && checkpoints.Contains(epochs)) continue;
                points.Add(Point(head, method, eps, epochs, xTrain, yTrain, cTrain, xTest, yTest, cTest, p, log));
            }
        }
        log.WriteLine($"classification: {points.Count} runs in {watch.Elapsed.TotalSeconds:F0} s");
        Directory.CreateDirectory(outDir);
        string suffix = quick ? "-quick" : "";
        File.WriteAllText(Path.Combine(outDir, $"classification{suffix}.md"), Table(points, epsilons, checkpoints, epochs, train, test, Path.GetFileName(dataPath), quick)
            + Report.FigureLinks(suffix, "classification_epochs", "classification_accuracy", "classification_loss"));
        Figures(points, epsilons, epochs, outDir, suffix);
        return points;
    }

    /// <summary>The given rows of a data set: their features, one-hot labels and classes.</summary>
    public static (float[] X, float[] OneHot, int[] Class) Rows(float[] x, int[] y, int p, int k, int[] rows)
    {
        var xs = new float[rows.Length * p];
        var oneHot = new float[rows.Length * k];
        var c = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            x.AsSpan(rows[i] * p, p).CopyTo(xs.AsSpan(i * p, p));
            c[i] = y[rows[i]];
            oneHot[i * k + c[i]] = 1;
        }
        return (xs, oneHot, c);
    }

    private static ClassificationPoint Point(ArgmaxOracle head, (string Name, NoiseDistribution Noise, int Samples) method, double epsilon, int epochs,
        float[] xTrain, float[] yTrain, int[] cTrain, float[] xTest, float[] yTest, int[] cTest, int p, TextWriter log)
    {
        var options = new StructuredTrainerOptions
        {
            Loss = StructuredLossKind.FenchelYoung, Noise = method.Noise, Samples = method.Samples, Epsilon = epsilon,
            NumberOfIterations = epochs, LearningRate = 1e-2, BatchSize = 32, Seed = 0,
        };
        IScoreModel model = StructuredTrainer.Fit(head, xTrain, yTrain, p, options);
        StructuredLoss loss = options.CreateLoss(head);
        // The Fenchel-Young value minus its infimum over θ (ε·E[Z_y]: 0 for normal noise, εγ for Gumbel), so that it is the
        // loss itself, ≥ 0; under Gumbel noise it equals ε × the cross-entropy of softmax(θ/ε).
        double floor = method.Noise is GumbelNoise ? epsilon * GumbelNoise.EulerGamma : 0;
        // The squared loss of Figure 2: ‖ŷ_ε(θ) − y‖² of the perturbed prediction (the method's noise at its ε, M = 1000, a fixed draw), mean over rows.
        var perturbed = new PerturbedOptimizer(head, new PerturbedOptimizerOptions { Noise = method.Noise, Epsilon = epsilon, Samples = 1000, Seed = 7 });
        (double trainAcc, double trainLoss, double trainSquared) = Score(model, loss, perturbed, xTrain, yTrain, cTrain, head.Dimension);
        (double testAcc, double testLoss, double testSquared) = Score(model, loss, perturbed, xTest, yTest, cTest, head.Dimension);
        trainLoss -= floor;
        testLoss -= floor;
        var point = new ClassificationPoint(method.Name, epsilon, epochs, trainAcc, testAcc, trainLoss, testLoss, trainSquared, testSquared);
        log.WriteLine($"ε {epsilon:G3}, {epochs} epochs, {method.Name}: train {trainAcc:P2}, test {testAcc:P2}, loss {trainLoss:F4} / {testLoss:F4}, squared {trainSquared:F4} / {testSquared:F4}");
        return point;
    }

    private static (double Accuracy, double Loss, double Squared) Score(IScoreModel model, StructuredLoss loss, PerturbedOptimizer perturbed, float[] x, float[] oneHot, int[] c, int k)
    {
        var theta = new float[c.Length * k];
        model.Score(x, theta);
        int right = 0;
        for (int r = 0; r < c.Length; r++)
        {
            ReadOnlySpan<float> row = theta.AsSpan(r * k, k);
            int best = 0;
            for (int j = 1; j < k; j++) if (row[j] > row[best]) best = j;
            if (best == c[r]) right++;
        }
        double value = loss.Evaluate(theta, oneHot, new float[c.Length], new float[theta.Length], draw: ulong.MaxValue);
        var yHat = new float[theta.Length];
        perturbed.Forward(theta, yHat, draw: ulong.MaxValue);
        double squared = 0;
        for (int i = 0; i < yHat.Length; i++) squared += (yHat[i] - oneHot[i]) * (double)(yHat[i] - oneHot[i]);
        return ((double)right / c.Length, value, squared / c.Length);
    }

    private static string Table(List<ClassificationPoint> points, double[] epsilons, int[] checkpoints, int epochs, int train, int test, string data, bool quick)
    {
        var w = new StringWriter();
        w.WriteLine("# Classification, Berthet et al. 2020 Figure 2 protocol on " + data + (quick ? " (quick smoke run)" : ""));
        w.WriteLine();
        w.WriteLine(Report.ProducedBy("classification" + (quick ? " --quick" : "")));
        w.WriteLine();
        w.WriteLine($"{train} training and {test} test rows, affine model, Adam lr 1e-2, batch 32, one run per setting (protocol in ClassificationExperiment).");
        w.WriteLine("Loss: the Fenchel-Young loss on the set (a fixed noise draw for normal noise), ≥ 0 with infimum 0; under Gumbel noise it is");
        w.WriteLine("ε × the cross-entropy of softmax(θ/ε). It grows with ε by construction; the ε trade-off shows in the accuracies.");
        w.WriteLine("The paper reports this experiment as a figure (CIFAR-10, a CNN): no table to copy; its claims are checked below.");
        w.WriteLine();
        w.WriteLine($"## Accuracy against epochs, ε = 1 (train / test)");
        w.WriteLine();
        w.WriteLine($"| epochs | {string.Join(" | ", Methods.Select(m => m.Name))} |");
        w.WriteLine($"|---|{string.Concat(Methods.Select(_ => "---|"))}");
        foreach (int e in checkpoints)
            w.WriteLine($"| {e} | {string.Join(" | ", Methods.Select(m => points.First(q => q.Method == m.Name && q.Epsilon == 1.0 && q.Epochs == e)).Select(q => $"{q.TrainAccuracy:P2} / {q.TestAccuracy:P2}"))} |");
        w.WriteLine();
        w.WriteLine($"## After {epochs} epochs, against ε (train acc / test acc / test loss / train and test squared loss ‖ŷ_ε − y‖²)");
        w.WriteLine();
        w.WriteLine($"| ε | {string.Join(" | ", Methods.Select(m => m.Name))} |");
        w.WriteLine($"|---|{string.Concat(Methods.Select(_ => "---|"))}");
        foreach (double eps in epsilons)
            w.WriteLine($"| {eps:G3} | {string.Join(" | ", Methods.Select(m => Final(points, m.Name, eps, epochs)).Select(q => $"{q.TrainAccuracy:P2} / {q.TestAccuracy:P2} / {q.TestLoss:F3} / {q.TrainSquared:F3}, {q.TestSquared:F3}"))} |");
        w.WriteLine();
        ClassificationPoint Best(string method) => epsilons.Select(e => Final(points, method, e, epochs)).MaxBy(q => q.TestAccuracy)!;
        ClassificationPoint ce = Best(Methods[2].Name);
        w.WriteLine($"Best test accuracy: cross-entropy {ce.TestAccuracy:P2} (ε = {ce.Epsilon:G3}); " +
            string.Join("; ", Methods.Take(2).Select(m => Best(m.Name)).Select(q => $"{q.Method} {q.TestAccuracy:P2} (ε = {q.Epsilon:G3}, {100 * (q.TestAccuracy - ce.TestAccuracy):+0.00;-0.00} points)")) + ".");
        return w.ToString();
    }

    private static ClassificationPoint Final(List<ClassificationPoint> points, string method, double eps, int epochs)
        => points.First(q => q.Method == method && q.Epsilon == eps && q.Epochs == epochs);

    private static void Figures(List<ClassificationPoint> points, double[] epsilons, int epochs, string outDir, string suffix)
    {
        Report.Lines(Path.Combine(outDir, $"classification_epochs{suffix}.png"), "optdigits, ε = 1: accuracy against epochs", "epochs", "accuracy (%)",
            Methods.SelectMany(m =>
            {
                ClassificationPoint[] line = points.Where(q => q.Method == m.Name && q.Epsilon == 1.0).DistinctBy(q => q.Epochs).OrderBy(q => q.Epochs).ToArray();
                double[] e = line.Select(q => (double)q.Epochs).ToArray();
                return new[]
                {
                    ($"{m.Name}, train", e, line.Select(q => 100 * q.TrainAccuracy).ToArray()),
                    ($"{m.Name}, test", e, line.Select(q => 100 * q.TestAccuracy).ToArray()),
                };
            }));
        // Figure 2's panels: accuracy and the squared loss ‖ŷ_ε − y‖², train and test, against ε on a log axis.
        foreach ((string file, string label, Func<ClassificationPoint, double> train, Func<ClassificationPoint, double> test) in
            new (string, string, Func<ClassificationPoint, double>, Func<ClassificationPoint, double>)[]
            {
                ("accuracy", "accuracy (%)", q => 100 * q.TrainAccuracy, q => 100 * q.TestAccuracy),
                ("loss", "squared loss ‖ŷ_ε − y‖²", q => q.TrainSquared, q => q.TestSquared),
            })
        {
            Report.Lines(Path.Combine(outDir, $"classification_{file}{suffix}.png"), $"optdigits after {epochs} epochs: {label} against ε (train and test)", "log10 ε", label,
                Methods.SelectMany(m =>
                {
                    ClassificationPoint[] line = epsilons.Select(e => Final(points, m.Name, e, epochs)).ToArray();
                    double[] x = line.Select(q => Math.Log10(q.Epsilon)).ToArray();
                    return new[] { ($"{m.Name}, train", x, line.Select(train).ToArray()), ($"{m.Name}, test", x, line.Select(test).ToArray()) };
                }));
        }
    }
}
