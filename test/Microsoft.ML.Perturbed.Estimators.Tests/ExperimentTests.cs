using Microsoft.ML.Perturbed.Evaluation;
using Microsoft.ML.Perturbed.Experiments;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>The experiments' quick versions: they run, write their table and figure, and their methods learn.</summary>
public class ExperimentTests
{
    [Fact]
    public void Shortest_path_quick_run_writes_its_table_and_every_method_beats_a_constant_cost()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<RegretCell>? cells = ShortestPathExperiment.Run(quick: true, dir, TextWriter.Null);
            Assert.NotNull(cells);
            Assert.Equal(RegretExperiment.Methods, cells!.Select(c => c.Method));
            string table = File.ReadAllText(Path.Combine(dir, "shortestpath-quick.md"));
            Assert.Contains("| n | deg | ε̄ | PFYL | SPO+ | DBB | NID | 2-stage | I-MLE | NCE | CMAP | LTR-point | LTR-pair | LTR-list |", table);
            Assert.Matches(@"Produced by `dotnet run [^`]+ -- shortestpath --quick` at commit [0-9a-f]{7}", table);
            Assert.True(new FileInfo(Path.Combine(dir, "shortestpath-quick.png")).Length > 1000);

            // The baseline every method must beat: a constant cost vector (every arc alike) on the same test instances.
            var head = DagShortestPathOracle.Grid(5, 5);
            (float[] x, float[] c) = DecisionData.ShortestPath(300, 5, 2, 0.5, seed: 2001);
            float[] cTest = c[(100 * head.Dimension)..];
            double constant = DecisionMetrics.Evaluate(head, Enumerable.Repeat(1f, cTest.Length).ToArray(), cTest).NormalizedRegret;
            foreach (RegretCell cell in cells)
            {
                Assert.True(double.IsFinite(cell.Mean));
                Assert.True(cell.Mean < 0.8 * constant, $"{cell.Method}: regret {cell.Mean:P2} against the constant's {constant:P2}.");
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Knapsack_quick_run_writes_its_table_and_every_method_beats_a_constant_value()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<RegretCell> cells = KnapsackExperiment.Run(quick: true, dir, TextWriter.Null);
            Assert.Equal(RegretExperiment.Methods, cells.Select(c => c.Method));
            string table = File.ReadAllText(Path.Combine(dir, "knapsack-quick.md"));
            Assert.Contains("| n | deg | ε̄ | PFYL | SPO+ | DBB | NID | 2-stage | I-MLE | NCE | CMAP | LTR-point | LTR-pair | LTR-list |", table);
            Assert.True(new FileInfo(Path.Combine(dir, "knapsack-quick.png")).Length > 1000);

            // The baseline: every item alike (the packing of the most items that fit), on the quick run's test instances.
            (Oracle head, float[] _, float[] c) = KnapsackExperiment.Problem.Generate(300, 2, 0.5, KnapsackExperiment.Problem.DataSeed(2, 0.5, 0));
            float[] cTest = c[(100 * head.Dimension)..];
            double constant = DecisionMetrics.Evaluate(head, Enumerable.Repeat(1f, cTest.Length).ToArray(), cTest).NormalizedRegret;
            // Every method beats it after the quick run's 10 epochs on 100 instances (I-MLE barely: 26 % against 28 %), the
            // Fenchel-Young, SPO+ and two-stage models by far.
            foreach (RegretCell cell in cells)
            {
                Assert.True(double.IsFinite(cell.Mean));
                double bound = cell.Method is "PFYL" or "SPO+" or "2-stage" ? 0.7 * constant : constant;
                Assert.True(cell.Mean < bound, $"{cell.Method}: regret {cell.Mean:P2} against the constant's {constant:P2}.");
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Well_specified_linear_costs_are_learned_to_near_zero_regret_by_the_two_stage_and_the_decision_focused_losses()
    {
        // Degree 1 without noise: the costs are an affine function of the features, so a linear model can be exact.
        var head = DagShortestPathOracle.Grid(5, 5);
        (float[] x, float[] c) = DecisionData.ShortestPath(600, 5, 1, 0, seed: 7);
        foreach (string method in new[] { "PFYL", "SPO+", "2-stage" })
        {
            double regret = ShortestPathExperiment.TrainAndScore(head, method, x, c, 400, 200, epochs: 30, seed: 0);
            Assert.True(regret < 0.02, $"{method}: normalized regret {regret:P2} on well-specified costs.");
        }
    }

    [Fact]
    public void Synthetic_ranking_quick_run_writes_its_table_and_figures_and_fenchel_young_ranks_far_above_chance()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<RankingPoint> points = SyntheticRankingExperiment.Run(quick: true, dir, TextWriter.Null);
            string table = File.ReadAllText(Path.Combine(dir, "synthetic_ranking-quick.md"));
            Assert.Contains("| σ | Fenchel-Young | perturbed + squared | squared | blackbox | FY best (within 1 std) |", table);
            foreach (string figure in new[] { "partial", "perfect", "epochs" })
                Assert.True(new FileInfo(Path.Combine(dir, $"synthetic_ranking_{figure}-quick.png")).Length > 1000);
            Assert.All(points, p => Assert.InRange(p.Partial, 0, 1));
            Assert.All(points, p => Assert.InRange(p.Perfect, 0, p.Partial));
            // A random ranking puts 1 label in 100 in place; Fenchel-Young at low noise learns far more even at this size.
            RankingPoint fy = points.Single(p => p.Loss == "Fenchel-Young" && p.Sigma == 0.01 && p.Epochs == 5);
            Assert.True(fy.Partial > 0.04, $"Fenchel-Young partial-rank rate {fy.Partial:P1}.");
            // The checkpoints are 1, 3, 10, 30, … below the budget and the budget; the noise-free scores w₀x bound every loss
            // from above at low noise and lose their edge as the noise swamps them.
            Assert.Equal([1, 3, 10, 30, 100, 300, 1000, 2000], SyntheticRankingExperiment.Checkpoints(2000));
            Assert.Equal([1, 3, 5], SyntheticRankingExperiment.Checkpoints(5));
            RankingPoint ceiling = points.Single(p => p.Loss == SyntheticRankingExperiment.Ceiling && p.Sigma == 0.01 && p.Epochs == 5);
            Assert.True(ceiling.Partial > 0.9 && ceiling.Partial > fy.Partial, $"ceiling partial-rank rate {ceiling.Partial:P1}.");
            Assert.True(points.Single(p => p.Loss == SyntheticRankingExperiment.Ceiling && p.Sigma == 100 && p.Epochs == 5).Partial < 0.05);
            // Same seed, same data: the generator is deterministic and the labels are the head's own solutions.
            var head = new RankingOracle(100);
            (float[] x1, float[] y1) = SyntheticRankingExperiment.Data(head, 10, 0.5, 3);
            (float[] x2, float[] y2) = SyntheticRankingExperiment.Data(head, 10, 0.5, 3);
            Assert.Equal(x1, x2);
            Assert.Equal(y1, y2);
            Assert.Equal(Enumerable.Range(1, 100).Select(i => (float)i), y1.Take(100).Order());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Classification_quick_run_on_optdigits_writes_its_table_and_figures_and_learns_when_the_data_is_present()
    {
        string? path = LabelRankingTests.DataFile("classification", "optdigits.csv");
        if (path is null) return;   // ../shared/data is absent: nothing to run on (the runner reports the missing file itself).
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<ClassificationPoint>? points = ClassificationExperiment.Run(quick: true, dir, path, TextWriter.Null);
            Assert.NotNull(points);
            string table = File.ReadAllText(Path.Combine(dir, "classification-quick.md"));
            Assert.Contains("Best test accuracy: cross-entropy", table);
            foreach (string figure in new[] { "epochs", "accuracy", "loss" })
                Assert.True(new FileInfo(Path.Combine(dir, $"classification_{figure}-quick.png")).Length > 1000);
            foreach (ClassificationPoint q in points!)
            {
                Assert.True(q.TestLoss >= 0 && double.IsFinite(q.TestLoss), $"{q.Method} ε {q.Epsilon}: loss {q.TestLoss}.");
                Assert.True(q.TestAccuracy > 0.5, $"{q.Method} ε {q.Epsilon}: test accuracy {q.TestAccuracy:P1} (chance is 10 %).");
            }
            // More epochs help at ε = 1, for every method.
            foreach (var g in points!.Where(q => q.Epsilon == 1.0).GroupBy(q => q.Method))
                Assert.True(g.MaxBy(q => q.Epochs)!.TrainAccuracy > g.MinBy(q => q.Epochs)!.TrainAccuracy, g.Key);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        Assert.Null(ClassificationExperiment.Run(quick: true, dir, Path.Combine(dir, "missing.csv"), TextWriter.Null));
    }

    [Fact]
    public void Suquan_quick_run_on_optdigits_writes_its_table_and_figures_and_normalization_undoes_the_distortion_when_the_data_is_present()
    {
        string? path = LabelRankingTests.DataFile("classification", "optdigits.csv");
        if (path is null) return;   // ../shared/data is absent: nothing to run on (the runner reports the missing file itself).
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<SuquanCell>? cells = SuquanExperiment.Run(quick: true, dir, path, TextWriter.Null);
            Assert.NotNull(cells);
            string table = File.ReadAllText(Path.Combine(dir, "suquan-quick.md"));
            foreach (string method in SuquanExperiment.Methods) Assert.Contains($"| {method} |", table);
            Assert.Matches(@"Produced by `dotnet run [^`]+ -- suquan --quick` at commit [0-9a-f]{7}", table);
            foreach (string figure in new[] { "loss", "curve", "f" })
                Assert.True(new FileInfo(Path.Combine(dir, $"suquan_{figure}-quick.png")).Length > 1000);
            foreach (var pair in cells!.Where(c => c.All).GroupBy(c => (c.A, c.B)))
            {
                double Loss(string method) => pair.First(c => c.Method == method).LogLoss;
                // Every quantile normalization undoes the per-row distortion that the unnormalized model suffers from.
                foreach (string method in SuquanExperiment.Methods.Skip(1))
                    Assert.True(Loss(method) < Loss("no normalization"), $"{pair.Key}: {method} {Loss(method):F4} ≥ no normalization {Loss("no normalization"):F4}");
                Assert.True(pair.All(c => c.Accuracy > 0.9), $"{pair.Key}: accuracy below 90 %");
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        Assert.Null(SuquanExperiment.Run(quick: true, dir, Path.Combine(dir, "missing.csv"), TextWriter.Null));
    }

    [Fact]
    public void Classification_sweep_quick_run_goes_through_the_sweep_api_and_its_best_epsilon_beats_chance_when_the_data_is_present()
    {
        string? path = LabelRankingTests.DataFile("classification", "optdigits.csv");
        if (path is null) return;   // ../shared/data is absent.
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<SweepPoint>? points = ClassificationSweepExperiment.Run(quick: true, dir, path, TextWriter.Null);
            Assert.NotNull(points);
            // The grid spans the options' own ε range: its ends are 1e-3 and 10, for both noise laws.
            foreach (var g in points!.GroupBy(q => q.Noise))
            {
                Assert.Equal(3, g.Count());
                Assert.Equal(1e-3, g.Min(q => q.Epsilon), 9);
                Assert.Equal(10, g.Max(q => q.Epsilon), 9);
                Assert.True(g.Max(q => q.Accuracy) > 0.6, $"{g.Key}: best CV accuracy {g.Max(q => q.Accuracy):P1} (chance is 10 %).");
            }
            Assert.Contains("| ε | Gumbel (exact) | normal, M = 1 |", File.ReadAllText(Path.Combine(dir, "classification_sweep-quick.md")));
            Assert.True(new FileInfo(Path.Combine(dir, "classification_sweep-quick.png")).Length > 1000);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Tuned_label_ranking_quick_run_picks_learning_rates_from_the_papers_set_and_beats_a_constant_ranking_when_the_data_is_present()
    {
        string? iris = LabelRankingTests.DataFile("label_ranking", "iris.csv");
        if (iris is null) return;   // ../shared/data is absent.
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<TunedCell>? cells = LabelRankingTunedExperiment.Run(quick: true, dir, Path.GetDirectoryName(iris)!, TextWriter.Null);
            Assert.NotNull(cells);
            Assert.Equal(2, cells!.Count);
            foreach (TunedCell c in cells)
            {
                Assert.All(c.Chosen, lr => Assert.Contains(lr, new[] { 1e-3, 1e-2, 1e-1 }));
                Assert.Equal(3, c.Chosen.Count);
                // A constant ranking scores about 0 on average; the tuned losses rank far better even at 10 epochs.
                Assert.True(c.Mean > 0.5, $"{c.Data} {c.Loss}: Spearman {c.Mean:F3}.");
            }
            Assert.Contains("| data | Fenchel-Young | perturbed + squared | time |", File.ReadAllText(Path.Combine(dir, "label_ranking_tuned-quick.md")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        Assert.Null(LabelRankingTunedExperiment.Run(quick: true, dir, Path.Combine(dir, "missing"), TextWriter.Null));
    }

    [Fact]
    public void Sorting_matching_quick_run_writes_its_table_and_figure_and_direct_loss_sorts_short_sequences()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<SortingCell> cells = SortingMatchingExperiment.Run(quick: true, dir, TextWriter.Null, lengths: [5], repetitions: [6]);
            Assert.Equal(SortingMatchingExperiment.Methods.Length, cells.Count);
            string table = File.ReadAllText(Path.Combine(dir, "sorting_matching-quick.md"));
            foreach (string method in SortingMatchingExperiment.Methods) Assert.Contains(method, table);
            Assert.Contains("100.0 %", table);   // the published DSL column at d = 5
            Assert.True(new FileInfo(Path.Combine(dir, "sorting_matching-quick.png")).Length > 1000);
            // Chance sorts a sequence of 5 perfectly once in 120 and gets 4 of 5 positions wrong on average.
            foreach (SortingCell cell in cells)
            {
                Assert.True(cell.PropWrong < 0.4, $"{cell.Method}: {cell.PropWrong:P0} of positions wrong.");
            }
            Assert.True(cells.Single(c => c.Method == "DSL (learned σ)").Perfect >= 0.5);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
    [Fact]
    public void Sinkhorn_implicit_quick_run_writes_its_tables_and_the_implicit_vjp_is_the_converged_derivative()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<SinkhornImplicitCell> cells = SinkhornImplicitExperiment.Run(quick: true, dir, TextWriter.Null);
            string table = File.ReadAllText(Path.Combine(dir, "sinkhorn_implicit-quick.md"));
            Assert.Contains("Produced by `dotnet run -c Release --project bench/Microsoft.ML.Perturbed.Experiments -- sinkhornimplicit --quick` at commit ", table);
            Assert.Contains("sinkhorn_implicit-quick.png", table);
            Assert.True(new FileInfo(Path.Combine(dir, "sinkhorn_implicit-quick.png")).Length > 1000);
            // Timing cells (tolerance 1e-6): every row converged, and the implicit VJP is within 1e-3 of the unrolled one.
            foreach (SinkhornImplicitCell c in cells.Where(c => c.Tolerance == SinkhornImplicitExperiment.TimingTolerance && !double.IsNaN(c.GapToUnrolled)))
            {
                Assert.Equal(0, c.FallbackRows);
                Assert.True(c.GapToUnrolled < 1e-3, $"m {c.M}, ε {c.Epsilon}: gap {c.GapToUnrolled}");
            }
            // Accuracy cells: the implicit VJP's gap to the converged derivative falls with the tolerance.
            double[] gaps = cells.Where(c => !double.IsNaN(c.ImplicitGapToConverged)).OrderByDescending(c => c.Tolerance).Select(c => c.ImplicitGapToConverged).ToArray();
            Assert.Equal(3, gaps.Length);
            Assert.True(gaps[0] > gaps[1] && gaps[1] > gaps[2] && gaps[2] < 1e-7, string.Join(", ", gaps));
            // Central differences of the converged forward pass.
            foreach (SinkhornImplicitCell c in cells.Where(c => !double.IsNaN(c.FiniteDifferenceGap)))
            {
                Assert.True(c.FiniteDifferenceGap < 1e-5, $"m {c.M}: {c.FiniteDifferenceGap}");
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
