using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Ranking;
using Microsoft.ML.Perturbed.Estimators.Sweeping;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>Sweeps spend no trial twice on the same option values, and values are at the precision of the search space.</summary>
public class SweepCacheTests(ITestOutputHelper output)
{
    private sealed class Row
    {
        [VectorType(3)] public float[] Features { get; set; } = [];
        [VectorType(3)] public float[] Label { get; set; } = [];
    }

    private static IDataView Rankings(MLContext ml)
    {
        var rng = new System.Random(3);
        return ml.Data.LoadFromEnumerable(Enumerable.Range(0, 60).Select(i => new Row
        {
            Features = Enumerable.Range(0, 3).Select(j => (float)rng.NextDouble() + (j == i % 3 ? 1.5f : 0)).ToArray(),
            Label = (i % 3) switch { 0 => [1f, 2, 3], 1 => [3f, 1, 2], _ => [2f, 3, 1] },
        }).ToList());
    }

    private static IEstimator<ITransformer> Pipeline(MLContext ml, PerturbedLabelRankingOptions o) => ml.LabelRanking().Trainers.PerturbedFenchelYoung(o);

    private static double Spearman(MLContext ml, IDataView scored) => ml.LabelRanking().Evaluate(scored).Spearman;

    [Fact]
    public void Values_are_rounded_to_the_precision_of_the_space()
    {
        SweepSpace space = SweepSpace.From<PerturbedLabelRankingOptions>();
        SweepParameter epsilon = space.Parameters.Single(p => p.Name == "Epsilon"), l2 = space.Parameters.Single(p => p.Name == "L2Regularization");
        // ε on [1e-3, 10] (log): the grid's levels are exact powers of ten, not 9.999999999999993 or 0.09999999999999998.
        Assert.Equal(10.0, (double)epsilon.ValueAt(1));
        Assert.Equal(0.1, (double)epsilon.ValueAt(0.5));
        Assert.Equal(1.0, (double)epsilon.ValueAt(0.75));
        Assert.Equal("0.0316", ((double)epsilon.ValueAt(0.375)).ToString(CultureInfo.InvariantCulture));
        for (int k = 0; k <= 64; k++)
        {
            string text = ((double)epsilon.ValueAt(k / 64.0)).ToString("R", CultureInfo.InvariantCulture);
            Assert.True(text.TrimStart('0', '.').Replace(".", "").TrimEnd('0').Length <= SweepParameter.SignificantDigits, $"u = {k}/64: ε = {text}");
            // L2 on [0, 1] (linear): steps of 0.001.
            double value = (double)l2.ValueAt(k / 64.0);
            Assert.Equal(Math.Round(k / 64.0, 3), value);
        }
        var trial = new SweepTrial(3, space.ValuesAt([1, 0.5, 0.5, 1 / 3.0]), 0.5, 0.01, TimeSpan.FromSeconds(1));
        Assert.Equal("#3: Epsilon = 10, Samples = 10, LearningRate = 0.01, L2Regularization = 0.333 → 0.5 ± 0.01 (1.0 s)", trial.ToString());
    }

    [Theory]
    [InlineData(SweepTunerKind.CostFrugal, 12)]
    [InlineData(SweepTunerKind.Grid, 8)]
    public void No_trial_is_spent_twice_on_the_same_option_values(SweepTunerKind tuner, int trials)
    {
        var ml = new MLContext(seed: 1);
        var seen = new List<string>();
        var settings = new SweepSettings
        {
            Tuner = tuner, Trials = trials, NumberOfFolds = 0, Seed = 1, RefitBest = false,
            // A fine grid over an integer range (many levels round to the same count) and the ε of the issue's cost-frugal run.
            Parameters = tuner == SweepTunerKind.Grid ? ["Samples"] : ["Epsilon"], GridLevels = 40,
        };
        SweepResult<PerturbedLabelRankingOptions> sweep = PerturbedSweep.Run(ml, new PerturbedLabelRankingOptions { NumberOfIterations = 2, Seed = 1 },
            Pipeline, Rankings(ml), Spearman, settings: settings);
        foreach (SweepTrial t in sweep.Trials) output.WriteLine(t.ToString());
        string[] values = sweep.Trials.Select(t => PerturbedSweep.Describe(t.Parameters)).ToArray();
        Assert.Equal(values.Distinct(), values);
        Assert.Equal(Enumerable.Range(0, sweep.Trials.Count), sweep.Trials.Select(t => t.Index));
        Assert.Equal(trials, sweep.Trials.Count);
        if (tuner == SweepTunerKind.Grid)
        {
            // The first 8 distinct sample counts of the 40-level log grid over [1, 100], in grid order.
            Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], sweep.Trials.Select(t => (int)t.Parameters["Samples"]));
        }
    }

    [Fact]
    public void A_non_finite_metric_is_refused_naming_the_trial_and_a_users_exception_arrives_unwrapped()
    {
        var ml = new MLContext(seed: 1);
        var settings = new SweepSettings { Tuner = SweepTunerKind.Grid, Trials = 2, NumberOfFolds = 0, Seed = 1, RefitBest = false, Parameters = ["Epsilon"] };
        var options = new PerturbedLabelRankingOptions { NumberOfIterations = 1, Seed = 1 };
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity })
        {
            var e = Assert.Throws<InvalidOperationException>(() => PerturbedSweep.Run(ml, options, Pipeline, Rankings(ml), (_, _) => bad, settings: settings));
            Assert.Contains($"gave the metric {bad}", e.Message);
            Assert.Contains("Epsilon = ", e.Message);
        }
        var mine = new FormatException("my metric failed");
        Assert.Same(mine, Assert.Throws<FormatException>(() => PerturbedSweep.Run(ml, options, Pipeline, Rankings(ml), (_, _) => throw mine, settings: settings)));
    }

    [Fact]
    public void An_empty_parameter_list_and_a_non_positive_time_budget_are_refused_up_front()
    {
        var ml = new MLContext(seed: 1);
        var options = new PerturbedLabelRankingOptions { NumberOfIterations = 1, Seed = 1 };
        var empty = Assert.Throws<ArgumentException>(() => PerturbedSweep.Run(ml, options, Pipeline, Rankings(ml), Spearman, settings: new SweepSettings { Parameters = [] }));
        Assert.Equal("Parameters", empty.ParamName);
        Assert.Contains("'Parameters' is empty", empty.Message);
        foreach (TimeSpan budget in new[] { TimeSpan.Zero, TimeSpan.FromSeconds(-1) })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => PerturbedSweep.Run(ml, options, Pipeline, Rankings(ml), Spearman, settings: new SweepSettings { TimeBudget = budget }));
            Assert.Equal("TimeBudget", e.ParamName);
        }
    }

    [Fact]
    public void More_folds_than_rows_and_a_null_pipeline_are_refused_by_name()
    {
        var ml = new MLContext(seed: 1);
        var options = new PerturbedLabelRankingOptions { NumberOfIterations = 1, Seed = 1 };
        IDataView few = ml.Data.TakeRows(Rankings(ml), 3);
        var folds = Assert.Throws<ArgumentOutOfRangeException>(() => PerturbedSweep.Run(ml, options, Pipeline, few, Spearman,
            settings: new SweepSettings { NumberOfFolds = 5, Trials = 1 }));
        Assert.Equal("NumberOfFolds", folds.ParamName);
        Assert.Contains("exceeds the 3 rows", folds.Message);
        var none = Assert.Throws<InvalidOperationException>(() => PerturbedSweep.Run(ml, options, (_, _) => null!, Rankings(ml), Spearman,
            settings: new SweepSettings { NumberOfFolds = 0, Trials = 1, Parameters = ["Epsilon"] }));
        Assert.Contains("pipeline builder returned null for trial 1", none.Message);
    }
}
