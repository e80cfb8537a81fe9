using System.Diagnostics;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// Warcraft-style shortest paths (Berthet et al. 2020 §5.3 and Fig. 6; Vlastelica et al. 2020; Sahoo et al. 2023 Table 6)
/// on generated maps (<see cref="WarcraftMaps"/>): a score model reads each cell's 8 × 8 RGB patch and predicts its cost,
/// one shared network for every cell (<see cref="ItemwiseModel"/>: 192 → hidden ReLU → 1, the papers use a truncated
/// ResNet18 on the whole 96 × 96 image), and the 8-neighbour vertex shortest path from the top-left to the bottom-right
/// cell (<see cref="Oracle.GridVertexShortestPath"/>, costs below 0 read as 0 as the GridPath head's oracle) turns costs
/// into a path; the network's output goes through softplus (<see cref="SoftplusOutputModel"/>), so costs stay positive.
/// Methods: perturbed Fenchel-Young on the optimal paths (additive normal noise), blackbox on the paths (linear task loss,
/// λ = 20, no projection), identity with projection (sphere), SPO+ on the true costs, and the squared loss on the true costs
/// (two-stage). Adam, batch 32; each method's test metrics after every epoch.
/// </summary>
public static class WarcraftExperiment
{
    /// <summary>The protocol's sizes: training and test maps, epochs, seeds, grid sizes, hidden width, data seed.</summary>
    public sealed record Settings(int Train, int Test, int Epochs, int Seeds, int[] Sizes, int Hidden, double LearningRate, int DataSeed = 26)
    {
        /// <summary>The short keys (<see cref="MethodKeys"/>) of the methods to train; empty (default): every method.</summary>
        public string[] Methods { get; init; } = [];

        /// <summary>The full protocol (what fits the 2-core machine; the papers: 10,000 training and 1,000 test maps).</summary>
        public static Settings Full { get; } = new(2000, 500, 30, 3, [12], 32, 1e-2);

        /// <summary>The seconds-long smoke version.</summary>
        public static Settings Quick { get; } = new(60, 30, 3, 1, [12], 8, 1e-2);
    }

    /// <summary>The methods: name, whether it trains on the true costs (else on the optimal paths), and its options.</summary>
    public static readonly (string Name, bool CostTargets, Action<StructuredTrainerOptions> Set)[] Methods =
    [
        ("FY (ε = 0.5, M = 10)", false, o => { o.Loss = StructuredLossKind.FenchelYoung; o.Epsilon = 0.5; o.Samples = 10; o.Noise = NoiseDistribution.Normal; }),
        // Blackbox at a tenth of the others' learning rate (Vlastelica et al. train at 5e-4): at 1e-2 it fell from 18 % to 6 %
        // cost-optimal paths over 8 epochs of the 400-map trial, at 1e-3 it rose to 49 %.
        ("blackbox (λ = 20)", false, o => { o.Loss = StructuredLossKind.Blackbox; o.BlackboxLambda = 20; o.Projection = ScoreProjection.None; o.LearningRate /= 10; }),
        ("identity (sphere)", false, o => { o.Loss = StructuredLossKind.IdentityWithProjection; o.Projection = ScoreProjection.Sphere; }),
        ("SPO+", true, o => o.Loss = StructuredLossKind.SpoPlus),
        ("squared cost", true, o => o.Loss = StructuredLossKind.SquaredScores),
    ];

    /// <summary>The short names <c>--methods</c> takes, one per entry of <see cref="Methods"/>, in the same order.</summary>
    public static readonly string[] MethodKeys = ["fy", "blackbox", "identity", "spo", "squared"];

    /// <summary>The methods a run trains: those named by <see cref="Settings.Methods"/>, in table order (every method when empty).</summary>
    /// <exception cref="ArgumentException">A key that names no method.</exception>
    public static (string Name, bool CostTargets, Action<StructuredTrainerOptions> Set)[] Selected(Settings settings) =>
        Report.ByKeys(Methods, MethodKeys, settings.Methods, "methods");

    /// <summary>Runs the experiment (or its quick version), writes the table and the figures, returns the runs.</summary>
    public static IReadOnlyList<WarcraftCurve> Run(bool quick, string outDir, TextWriter log, Settings? settings = null, string arguments = "")
    {
        settings ??= quick ? Settings.Quick : Settings.Full;
        var methods = Selected(settings);
        var curves = new List<WarcraftCurve>();
        var probes = new Dictionary<int, (double CellAccuracy, double CostOptimal, double ExactPath, double CostRatio)>();
        var sensitivity = new Dictionary<int, (double Sigma, double CostOptimal, double CostRatio)[]>();
        var total = Stopwatch.StartNew();
        foreach (int size in settings.Sizes)
        {
            int cells = size * size, p = cells * WarcraftMaps.CellFeatures;
            (float[] xTrain, float[] cTrain, int[] tTrain) = WarcraftMaps.Generate(settings.Train, size, settings.DataSeed);
            (float[] xTest, float[] cTest, int[] tTest) = WarcraftMaps.Generate(settings.Test, size, settings.DataSeed, first: settings.Train);
            Oracle head = Head(size);
            var yTrain = new float[cTrain.Length];
            head.Solve(cTrain, yTrain);
            foreach ((string name, bool costTargets, Action<StructuredTrainerOptions> set) in methods)
            {
                for (int seed = 0; seed < settings.Seeds; seed++)
                {
                    var watch = Stopwatch.StartNew();
                    WarcraftCurve curve = Train(head, name, set, size, xTrain, costTargets ? cTrain : yTrain, xTest, cTest, settings, seed);
                    curves.Add(curve with { Seconds = watch.Elapsed.TotalSeconds });
                    log.WriteLine($"warcraft {size}×{size}: {name}, seed {seed}: cost-optimal {curve.CostOptimal[^1]:P1}, same path {curve.ExactPath[^1]:P1}, " +
                        $"cost ratio {curve.CostRatio[^1]:F4} after {settings.Epochs} epochs ({watch.Elapsed.TotalSeconds:F0} s)");
                }
            }
            sensitivity[size] = Sensitivity(head, cTest, seed: size);
            var probe = probes[size] = WarcraftTypeProbe.Run(head, xTrain, tTrain, xTest, tTest, cTest, settings.Hidden, seed: 0);
            log.WriteLine($"warcraft {size}×{size}: type probe: {probe.CellAccuracy:P2} of test cells typed right, cost-optimal {probe.CostOptimal:P1}, " +
                $"same path {probe.ExactPath:P1}, cost ratio {probe.CostRatio:F4}");
        }
        log.WriteLine($"warcraft: {curves.Count} runs in {total.Elapsed.TotalSeconds:F0} s");
        Directory.CreateDirectory(outDir);
        string suffix = quick ? "-quick" : "", stem = Stem(settings);
        File.WriteAllText(Path.Combine(outDir, $"{stem}{suffix}.md"),
            WarcraftReport.Table(curves, probes, sensitivity, settings, quick, ("warcraft" + (quick ? " --quick" : "") + arguments).Trim())
            + Report.FigureLinks(suffix, $"{stem}_optimal", $"{stem}_ratio"));
        WarcraftReport.Figures(curves, settings, Path.Combine(outDir, $"{stem}_optimal{suffix}.png"), Path.Combine(outDir, $"{stem}_ratio{suffix}.png"));
        return curves;
    }

    /// <summary>The result files' stem: <c>warcraft</c> for the 12 × 12 maps, <c>warcraft_18x18</c> (…) for other sizes.</summary>
    public static string Stem(Settings settings) =>
        settings.Sizes is [12] ? "warcraft" : "warcraft_" + string.Join("_", settings.Sizes.Select(k => $"{k}x{k}"));

    /// <summary>The oracle of a <paramref name="size"/> × <paramref name="size"/> map: the GridPath head's (costs below 0 read as 0).</summary>
    public static Oracle Head(int size) => new GridPathHead(size, size).CreateOracle();

    /// <summary>Trains one method and scores the test maps after every epoch.</summary>
    public static WarcraftCurve Train(Oracle head, string name, Action<StructuredTrainerOptions> set, int size, float[] xTrain, float[] targets,
        float[] xTest, float[] cTest, Settings settings, int seed)
    {
        int cells = size * size, p = cells * WarcraftMaps.CellFeatures;
        var options = new StructuredTrainerOptions
        {
            NumberOfIterations = settings.Epochs, LearningRate = settings.LearningRate, BatchSize = 32, Seed = seed,
            ModelFactory = (features, outputs) => new SoftplusOutputModel(ItemwiseModel.Random(cells, WarcraftMaps.CellFeatures, [settings.Hidden], 1, 0, seed)),
        };
        set(options);
        var backend = new SessionBackend();
        var optimal = new List<double>();
        var exact = new List<double>();
        var ratio = new List<double>();
        var predicted = new float[cTest.Length];
        var probe = new EpochProbe(_ =>
        {
            backend.Session!.Result().Score(xTest, predicted);
            (double o, double e, double r) = Evaluate(head, predicted, cTest);
            optimal.Add(o);
            exact.Add(e);
            ratio.Add(r);
        });
        StructuredTrainer.Fit(head, xTrain, targets, p, options, progress: probe, backend: backend);
        return new WarcraftCurve(name, size, seed, [.. optimal], [.. exact], [.. ratio], 0, CellError(predicted, cTest));
    }

    /// <summary>
    /// The test metrics of predicted costs: the share of maps whose predicted path is cost-optimal under the true costs
    /// (⟨c*, y(ĉ)⟩ ≤ ⟨c*, y*⟩·(1 + 1e-9), Berthet et al.'s count), the share whose path is the labelled one cell for cell, and the
    /// mean cost ratio ⟨c*, y(ĉ)⟩/⟨c*, y*⟩ (≥ 1). Products in double.
    /// </summary>
    public static (double CostOptimal, double ExactPath, double CostRatio) Evaluate(Oracle head, ReadOnlySpan<float> predicted, ReadOnlySpan<float> costs)
    {
        int d = head.Dimension, maps = costs.Length / d;
        var yHat = new float[costs.Length];
        var yStar = new float[costs.Length];
        head.Solve(predicted, yHat);
        head.Solve(costs, yStar);
        int optimal = 0, exact = 0;
        double ratio = 0;
        for (int m = 0; m < maps; m++)
        {
            double got = 0, best = 0;
            bool same = true;
            for (int i = m * d; i < (m + 1) * d; i++)
            {
                got += (double)costs[i] * yHat[i];
                best += (double)costs[i] * yStar[i];
                same &= yHat[i] == yStar[i];
            }
            if (got <= best * (1 + 1e-9)) optimal++;
            if (same) exact++;
            ratio += got / best;
        }
        return ((double)optimal / maps, (double)exact / maps, ratio / maps);
    }

    /// <summary>
    /// The relative RMS error of predicted cell costs after the least-squares scale α = ⟨ĉ, c⟩/⟨ĉ, ĉ⟩ (paths do not change
    /// with the scale, and FY, blackbox and identity learn costs up to one): √(mean (((αĉᵢ − cᵢ)/cᵢ)²)).
    /// </summary>
    public static double CellError(ReadOnlySpan<float> predicted, ReadOnlySpan<float> costs)
    {
        double pc = 0, pp = 0;
        for (int i = 0; i < costs.Length; i++)
        {
            pc += (double)predicted[i] * costs[i];
            pp += (double)predicted[i] * predicted[i];
        }
        double alpha = pp > 0 ? pc / pp : 0, sum = 0;
        for (int i = 0; i < costs.Length; i++)
        {
            double r = (alpha * predicted[i] - costs[i]) / costs[i];
            sum += r * r;
        }
        return Math.Sqrt(sum / costs.Length);
    }

    /// <summary>The relative cell errors σ of <see cref="Sensitivity"/>.</summary>
    public static readonly double[] SensitivitySigmas = [0.05, 0.1, 0.2, 0.3];

    /// <summary>
    /// How cost-optimal paths are under small cost errors, measured on the test maps: the true costs, each cell times
    /// exp(σZ − σ²/2) with standard normal Z (relative errors of size σ), solved; the cost-optimal share and mean cost ratio.
    /// </summary>
    public static (double Sigma, double CostOptimal, double CostRatio)[] Sensitivity(Oracle head, float[] costs, int seed)
    {
        var random = new System.Random(seed);
        var result = new (double, double, double)[SensitivitySigmas.Length];
        var noisy = new float[costs.Length];
        for (int k = 0; k < SensitivitySigmas.Length; k++)
        {
            double sigma = SensitivitySigmas[k];
            for (int i = 0; i < costs.Length; i++)
            {
                double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
                double z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                noisy[i] = (float)(costs[i] * Math.Exp(sigma * z - sigma * sigma / 2));
            }
            (double optimal, _, double ratio) = Evaluate(head, noisy, costs);
            result[k] = (sigma, optimal, ratio);
        }
        return result;
    }

    // The CPU backend's session, kept so that the epoch probe can score the model as it stands.
    private sealed class SessionBackend : IStructuredTrainingBackend
    {
        public ITrainingSession? Session { get; private set; }

        ITrainingSession IStructuredTrainingBackend.Start(Oracle oracle, StructuredLoss loss, int featureCount, StructuredTrainerOptions options) =>
            Session = CpuTrainingBackend.Instance.Start(oracle, loss, featureCount, options);
    }

    // Runs its action on the training thread at every epoch's end (Progress<T> would post it elsewhere).
    private sealed class EpochProbe(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
