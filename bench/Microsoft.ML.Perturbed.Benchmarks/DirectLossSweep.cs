using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML.Perturbed.Estimators;
using Microsoft.ML.Perturbed.Estimators.Ranking;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// Why direct loss minimization trails Fenchel-Young on label ranking (issue 26): the protocol of
/// <see cref="LabelRankingExperiment"/> (10-fold CV through <c>mlContext.LabelRanking()</c>, affine model, Adam, batch 32,
/// seed 1) with the direct loss built by hand, so that the settings the built-in kind leaves at their defaults (doublings,
/// a fixed σ) can be varied, and the learned σ = softplus(v) is logged. Run with
/// <c>dotnet run -c Release --project bench/Microsoft.ML.Perturbed.Benchmarks -- labelranking-directloss [dataDir] [epochs]</c>;
/// <c>LR_SETS</c> picks the data sets (default housing, vehicle, stock), <c>LR_CONFIGS</c> the rows by name, separated by semicolons (a name without its bracket matches: <c>default;σ = 0.3 fixed</c>).
/// The first row is the built-in direct loss of bench/results/label_ranking.md and must reproduce its column.
/// </summary>
public static class DirectLossSweep
{
    /// <summary>One configuration: the direct loss's settings and the trainer's learning rate and epoch factor.</summary>
    private sealed record Config(string Name, double Epsilon = -1, int Doublings = 3, int Samples = 10, double? Sigma = null, double Rate = 0.01, int EpochFactor = 1, bool FenchelYoung = false);

    private static readonly Config[] Configs =
    [
        new("default (ε = −1, 3 doublings, M = 10, learned σ, η = 0.01)"),
        new("ε = −0.1", Epsilon: -0.1), new("ε = −0.3", Epsilon: -0.3), new("ε = −3", Epsilon: -3), new("ε = −10", Epsilon: -10),
        new("ε = +1 (away from better)", Epsilon: 1),
        new("doublings 0", Doublings: 0), new("doublings 10", Doublings: 10),
        new("M = 1", Samples: 1), new("M = 30", Samples: 30),
        new("σ = 0 fixed", Sigma: 0), new("σ = 0.03 fixed", Sigma: 0.03), new("σ = 0.1 fixed", Sigma: 0.1), new("σ = 0.3 fixed", Sigma: 0.3),
        new("σ = 1 fixed", Sigma: 1), new("σ = 0.1 fixed, ε = −0.1", Epsilon: -0.1, Sigma: 0.1), new("σ = 0.1 fixed, ε = −10", Epsilon: -10, Sigma: 0.1),
        new("η = 0.1", Rate: 0.1), new("η = 0.001", Rate: 0.001), new("3× epochs", EpochFactor: 3),
        new("Fenchel-Young (reference: ε = 1, M = 10)", FenchelYoung: true),
    ];

    public static int Run(string[] args)
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        string dir = args.Length > 1 ? args[1] : Path.Combine("..", "shared", "data", "label_ranking");
        int epochs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 50;
        if (!Directory.Exists(dir))
        {
            Console.WriteLine($"Skipped: no label-ranking data at '{Path.GetFullPath(dir)}'.");
            return 0;
        }
        string[] sets = (Environment.GetEnvironmentVariable("LR_SETS") ?? "housing,vehicle,stock").Split(',');
        string[]? only = Environment.GetEnvironmentVariable("LR_CONFIGS")?.Split(';');
        Console.WriteLine($"| setting | {string.Join(" | ", sets.Select(s => $"{s} ρ | {s} σ first → last epoch | {s} μ spread"))} | time |");
        Console.WriteLine($"|---|{string.Concat(sets.Select(_ => "---|---|---|"))}---|");
        foreach (Config config in Configs)
        {
            if (only is not null && !only.Any(o => config.Name == o || config.Name.StartsWith(o + " (", StringComparison.Ordinal))) continue;
            var cells = new List<string>();
            var watch = Stopwatch.StartNew();
            foreach (string set in sets)
            {
                string path = Path.Combine(dir, set + ".csv");
                if (!File.Exists(path)) throw new FileNotFoundException($"LR_SETS names '{set}' but {path} does not exist.", path);
                (double rho, double std, double first, double last, double spread) = CrossValidate(path, config, epochs);
                cells.Add($"{rho:F3} ± {std:F3}");
                cells.Add(config.FenchelYoung ? "— | —" : (config.Sigma is double s ? $"{s} (fixed)" : $"{first:G2} → {last:G2}") + $" | {spread:G3}");
            }
            Console.WriteLine($"| {config.Name} | {string.Join(" | ", cells)} | {watch.Elapsed.TotalSeconds:F0} s |");
        }
        return 0;
    }

    private static (double Rho, double Std, double FirstSigma, double LastSigma, double Spread) CrossValidate(string path, Config config, int epochs)
    {
        var ml = new MLContext(seed: 0);
        IDataView data = Experiments.LabelRankingTunedExperiment.Load(ml, path);
        var probe = new SigmaProbe();
        var options = new PerturbedLabelRankingOptions
        {
            Loss = config.FenchelYoung ? StructuredLossKind.FenchelYoung : StructuredLossKind.DirectLoss, NumberOfIterations = epochs * config.EpochFactor, LearningRate = config.Rate,
            Epsilon = 1, Samples = config.Samples, BatchSize = 32, Seed = 1, Progress = probe,
        };
        // The built-in kind passes only ε, M and the seed (StructuredLosses); the trainer's LossFactory takes the loss built
        // here with every setting (the options' core settings are private to the estimators: reached by reflection).
        var core = (StructuredTrainerOptions)typeof(PerturbedTrainerOptions).GetField("_core", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(options)!;
        // Fenchel-Young stays the built-in loss (no wrapper: the trainer's own path for it, so that the row is the column of
        // bench/results/label_ranking.md), and its score spread is not logged.
        if (!config.FenchelYoung) core.LossFactory = head => probe.Wrap(new DirectLossMinimization(head, LinearLosses.For(head), new DirectLossOptions
        {
            Epsilon = config.Epsilon, MaxEpsilonDoublings = config.Doublings, Samples = config.Samples, NoiseScale = config.Sigma, Seed = 1,
        }));
        var pipeline = ml.Transforms.NormalizeMeanVariance("Features").Append(ml.LabelRanking().Trainers.PerturbedFenchelYoung(options));
        double[] rho = ml.LabelRanking().CrossValidate(data, pipeline, numberOfFolds: 10, seed: 0).Select(r => r.Metrics.Spearman).ToArray();
        double mean = rho.Average(), std = Math.Sqrt(rho.Sum(r => (r - mean) * (r - mean)) / (rho.Length - 1));
        return (mean, std, probe.FirstEpochMean, probe.LastEpochMean, probe.LastEpochSpread);
    }

    /// <summary>
    /// Records the mean learned σ = softplus(v) over the rows each epoch sees (averaged over the folds): the first and the
    /// last epoch's. It wraps the loss (same values and gradients) and receives the trainer's per-epoch reports.
    /// </summary>
    private sealed class SigmaProbe : IProgress<TrainingProgress>
    {
        private readonly List<List<double>> _folds = [];
        private readonly List<double> _spreads = [];
        private double _sum, _spread;
        private long _count;

        /// <summary>The last epoch's mean spread max μ − min μ of a row's scores (averaged over the folds).</summary>
        public double LastEpochSpread => _spreads.DefaultIfEmpty(double.NaN).Average();

        public double FirstEpochMean => Mean(f => f[0]);

        public double LastEpochMean => Mean(f => f[^1]);

        private double Mean(Func<List<double>, double> pick)
            => _folds.Where(f => f.Count > 0).Select(pick).DefaultIfEmpty(double.NaN).Average();

        /// <summary>The loss of one fit (one fold): its epochs are recorded in a list of their own.</summary>
        public StructuredLoss Wrap(StructuredLoss inner)
        {
            _folds.Add([]);
            _spreads.Add(double.NaN);
            _sum = 0;
            _spread = 0;
            _count = 0;
            return new Probed(inner, this);
        }

        /// <summary>The end of an epoch: the mean σ of the rows it saw.</summary>
        public void Report(TrainingProgress value)
        {
            if (_count > 0)
            {
                if (_sum > 0) _folds[^1].Add(_sum / _count);
                _spreads[^1] = _spread / _count;
            }
            _sum = 0;
            _spread = 0;
            _count = 0;
        }

        private void Observe(ReadOnlySpan<float> theta, int dimension, int scores)
        {
            lock (_folds)
            {
                for (int r = 0; r + dimension <= theta.Length; r += dimension)
                {
                    ReadOnlySpan<float> mu = theta.Slice(r, scores);
                    _spread += (double)RowMax(mu) - RowMin(mu);
                    if (dimension > scores) _sum += DirectLossMinimization.Softplus(theta[r + scores]);
                    _count++;
                }
            }
        }

        private static float RowMax(ReadOnlySpan<float> x)
        {
            float m = float.NegativeInfinity;
            foreach (float v in x) m = Math.Max(m, v);
            return m;
        }

        private static float RowMin(ReadOnlySpan<float> x)
        {
            float m = float.PositiveInfinity;
            foreach (float v in x) m = Math.Min(m, v);
            return m;
        }

        private sealed class Probed(StructuredLoss inner, SigmaProbe probe) : StructuredLoss(inner.Dimension, inner.TargetDimension)
        {
            public override int ScoreDimension => inner.ScoreDimension;

            public override string Name => inner.Name;

            protected override void EvaluateCore(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient, ulong draw)
            {
                probe.Observe(theta, Dimension, inner.ScoreDimension);
                inner.Evaluate(theta, target, loss, gradient, draw);
            }
        }
    }
}
