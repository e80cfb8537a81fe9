using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Classification;
using Microsoft.ML.Perturbed.Estimators.Ranking;
using Microsoft.ML.Perturbed.Estimators.Structured;
using Microsoft.ML.Perturbed.Estimators.Sweeping;
using Microsoft.ML.Perturbed.Oracles;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

public class SweepTests(ITestOutputHelper output)
{
    [Fact]
    public void The_options_attributes_give_the_intended_search_space()
    {
        SweepSpace space = SweepSpace.From<PerturbedLabelRankingOptions>();
        SweepParameter Get(string name) => space.Parameters.Single(p => p.Name == name);
        Assert.Equal(["Epsilon", "Samples", "LearningRate", "L2Regularization"], space.Parameters.Select(p => p.Name));
        Assert.True(Get("Epsilon") is { Min: 1e-3, Max: 10, Default: 1, Log: true, Integer: false });
        Assert.True(Get("Samples") is { Min: 1, Max: 100, Default: 10, Log: true, Integer: true });
        Assert.True(Get("LearningRate") is { Min: 1e-4, Max: 1, Default: 1e-2, Log: true });
        Assert.True(Get("L2Regularization") is { Min: 0, Max: 1, Default: 0, Log: false });
        // The defaults map to the attributes' initial values, and ValueAt inverts UnitOf on every scale.
        IReadOnlyDictionary<string, object> defaults = space.ValuesAt(space.DefaultPoint());
        Assert.Equal(1.0, (double)defaults["Epsilon"], 10);
        Assert.Equal(10, (int)defaults["Samples"]);
        Assert.Equal(0.01, (double)defaults["LearningRate"], 10);
        Assert.Equal(0.0, (double)defaults["L2Regularization"], 10);
        // Every trainer's options class has the same space.
        foreach (Type type in new[] { typeof(PerturbedMulticlassOptions), typeof(PerturbedStructuredOptions) })
        {
            Assert.Equal(space.Parameters.Select(p => p.ToString()), SweepSpace.From(type).Parameters.Select(p => p.ToString()));
        }
        Assert.Equal(["Epsilon"], SweepSpace.From<PerturbedLabelRankingOptions>(["Epsilon"]).Parameters.Select(p => p.Name));
        Assert.Contains("swept options", Assert.Throws<ArgumentException>(() => SweepSpace.From<PerturbedLabelRankingOptions>(["Epochs"])).Message);
    }

    private static double Sphere(double[] u) => -u.Select((v, i) => Math.Pow(v - (i == 0 ? 0.3 : 0.7), 2)).Sum();

    private static (double[] Best, double Score) Run(ISweepTuner tuner, Func<double[], double> f, int budget)
    {
        double best = double.NegativeInfinity;
        double[] where = [];
        int used = 0;
        while (used < budget && !tuner.IsExhausted)
        {
            foreach (double[] p in tuner.Propose(budget - used))
            {
                double score = f(p);
                tuner.Report(p, score);
                if (score > best) (best, where) = (score, p);
                used++;
            }
        }
        return (where, best);
    }

    [Fact]
    public void Tuners_find_the_optimum_of_known_functions_and_are_deterministic()
    {
        // A smooth bowl in [0, 1]² with its optimum at (0.3, 0.7), and a 4-dimensional one.
        (double[] cfo, double cfoScore) = Run(new CostFrugalTuner([0.5, 0.5], seed: 1), Sphere, 40);
        Assert.True(cfoScore > -1e-3, $"cost-frugal: {cfoScore} at ({string.Join(", ", cfo)})");
        (_, double randomScore) = Run(new RandomTuner(2, seed: 1), Sphere, 40);
        Assert.True(randomScore > -0.02, $"random: {randomScore}");
        Func<double[], double> bowl4 = u => -u.Select((v, i) => Math.Pow(v - 0.2 * (i + 1), 2)).Sum();
        double cfo4 = Run(new CostFrugalTuner([0.5, 0.5, 0.5, 0.5], 2), bowl4, 60).Score, random4 = Run(new RandomTuner(4, 2), bowl4, 60).Score;
        output.WriteLine($"4-d bowl, 60 evaluations: cost-frugal {cfo4:G3}, random {random4:G3}");
        Assert.True(cfo4 > random4, $"cost-frugal {cfo4} should beat random {random4} at equal budget");
        // The grid visits every point once, in a fixed order, and finds the best grid point.
        SweepSpace space = SweepSpace.From<PerturbedLabelRankingOptions>(["Epsilon", "LearningRate"]);
        var grid = new GridTuner(space, levels: 5);
        Assert.Equal(25, grid.Size);
        (double[] g, _) = Run(grid, Sphere, 100);
        Assert.Equal([0.25, 0.75], g);
        // Same seed, same proposals.
        Assert.Equal(new RandomTuner(3, 9).Propose(5).SelectMany(p => p), new RandomTuner(3, 9).Propose(5).SelectMany(p => p));
        Assert.Equal(Run(new CostFrugalTuner([0.5, 0.5], 4), Sphere, 30).Best, Run(new CostFrugalTuner([0.5, 0.5], 4), Sphere, 30).Best);
    }

    private sealed class Example
    {
        public float[] Features { get; set; } = [];
        public float[] Label { get; set; } = [];
    }

    /// <summary>Rankings (1 = best) of noisy affine scores of 5 labels over 6 features.</summary>
    private static IDataView Rankings(MLContext ml, int n, int seed)
    {
        var rng = new System.Random(seed);
        var w = Enumerable.Range(0, 30).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var oracle = new RankingOracle(5);
        var rows = new List<Example>();
        for (int r = 0; r < n; r++)
        {
            float[] x = Enumerable.Range(0, 6).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            float[] s = Enumerable.Range(0, 5).Select(k => (float)(Enumerable.Range(0, 6).Sum(j => w[k * 6 + j] * x[j]) + 0.3 * (rng.NextDouble() - 0.5))).ToArray();
            var y = new float[5];
            oracle.Solve(s, y);
            rows.Add(new Example { Features = x, Label = y.Select(v => 6 - v).ToArray() });
        }
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 6);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 5);
        return ml.Data.Cache(ml.Data.LoadFromEnumerable(rows, definition));
    }

    private static IEstimator<ITransformer> Pipeline(MLContext ml, PerturbedLabelRankingOptions o) => ml.LabelRanking().Trainers.PerturbedFenchelYoung(o);

    private static double Spearman(MLContext ml, IDataView scored) => ml.LabelRanking().Evaluate(scored).Spearman;

    [Fact]
    public void A_grid_sweep_of_epsilon_matches_an_independent_cross_validation_and_parallelism_changes_nothing()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Rankings(ml, 150, 3);
        var baseOptions = new PerturbedLabelRankingOptions { NumberOfIterations = 5, Seed = 1 };
        var settings = new SweepSettings { Tuner = SweepTunerKind.Grid, GridLevels = 4, Parameters = ["Epsilon"], NumberOfFolds = 3, Seed = 2, RefitBest = false };
        SweepResult<PerturbedLabelRankingOptions> sweep = PerturbedSweep.Run(ml, baseOptions, Pipeline, data, Spearman, settings: settings);
        Assert.Equal(4, sweep.Trials.Count);
        foreach (SweepTrial t in sweep.Trials) output.WriteLine(t.ToString());
        // Independently: the same folds, the same per-fold contexts, by hand.
        var folds = ml.Data.CrossValidationSplit(data, 3, seed: 2);
        foreach (SweepTrial t in sweep.Trials)
        {
            double mean = folds.Select((f, i) =>
            {
                var context = new MLContext(2 + 7919 * i);
                var o = new PerturbedLabelRankingOptions { NumberOfIterations = 5, Seed = 1, Epsilon = (double)t.Parameters["Epsilon"] };
                return Spearman(context, Pipeline(context, o).Fit(f.TrainSet).Transform(f.TestSet));
            }).Average();
            Assert.Equal(mean, t.Mean, 12);
        }
        Assert.Equal(sweep.Trials.Max(t => t.Mean), sweep.Best.Mean);
        Assert.Equal((double)sweep.Best.Parameters["Epsilon"], sweep.BestOptions.Epsilon);
        Assert.Equal(1.0, baseOptions.Epsilon);   // the base options are not changed
        // Four trials at once: the very same results.
        settings.MaxDegreeOfParallelism = 4;
        SweepResult<PerturbedLabelRankingOptions> parallel = PerturbedSweep.Run(ml, baseOptions, Pipeline, data, Spearman, settings: settings);
        Assert.Equal(sweep.Trials.Select(t => t.Mean), parallel.Trials.Select(t => t.Mean));
    }

    [Fact]
    public void A_cost_frugal_sweep_refits_the_best_and_reports_progress_and_cancellation_stops_between_trials()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Rankings(ml, 120, 4);
        var seen = new List<SweepTrial>();
        var settings = new SweepSettings { Trials = 5, NumberOfFolds = 0, ValidationFraction = 0.3, Seed = 1, Progress = new Collect(seen), Parameters = ["Epsilon", "LearningRate"] };
        var baseOptions = new PerturbedLabelRankingOptions { NumberOfIterations = 5 };
        SweepResult<PerturbedLabelRankingOptions> result = PerturbedSweep.Run(ml, baseOptions, Pipeline, data, Spearman, settings: settings);
        Assert.Equal(5, result.Trials.Count);
        Assert.Equal(result.Trials, seen);
        Assert.Equal(1.0, (double)result.Trials[0].Parameters["Epsilon"], 10);   // it starts at the defaults
        Assert.NotNull(result.Model);
        Assert.True(Spearman(ml, result.Model!.Transform(data)) > 0.5);
        using var cts = new CancellationTokenSource();
        settings.Progress = new Collect([], () => cts.Cancel());
        settings.CancellationToken = cts.Token;
        Assert.ThrowsAny<OperationCanceledException>(() => PerturbedSweep.Run(ml, baseOptions, Pipeline, data, Spearman, settings: settings));
    }

    private sealed class Collect(List<SweepTrial> into, Action? after = null) : IProgress<SweepTrial>
    {
        public void Report(SweepTrial value)
        {
            into.Add(value);
            after?.Invoke();
        }
    }
}
