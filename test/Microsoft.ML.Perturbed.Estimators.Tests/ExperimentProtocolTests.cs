using Microsoft.ML.Perturbed.Experiments;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Xunit;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>The experiments' protocol switches: which methods a sorting run takes, and how a synthetic-ranking run stops.</summary>
public class ExperimentProtocolTests
{
    [Fact]
    public void Sorting_matching_methods_are_chosen_by_short_key_in_table_order_and_an_unknown_key_throws()
    {
        Assert.Equal(SortingMatchingExperiment.Methods, SortingMatchingExperiment.SelectMethods(null));
        Assert.Equal(SortingMatchingExperiment.Methods.Length, SortingMatchingExperiment.MethodKeys.Length);
        Assert.Equal(["DLM σ̄ = 0", "DSL (learned σ)", "Gumbel-Sinkhorn"], SortingMatchingExperiment.SelectMethods(["gs", "dsl", "dlm0"]));
        var e = Assert.Throws<ArgumentException>(() => SortingMatchingExperiment.SelectMethods(["dsl", "DSL"]));
        Assert.Contains("'DSL'", e.Message);
        Assert.Contains("dlm0, dlm1, dsl, dslpos, fy, gs", e.Message);
    }

    [Fact]
    public void Sorting_matching_run_of_some_methods_writes_only_their_columns_and_marks_the_claims_it_cannot_check()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<SortingCell> cells = SortingMatchingExperiment.Run(quick: true, dir, TextWriter.Null, lengths: [5], repetitions: [2], maxEpochs: 20,
                methods: ["dsl", "dlm0"]);
            Assert.Equal(["DLM σ̄ = 0", "DSL (learned σ)"], cells.Select(c => c.Method));
            string table = File.ReadAllText(Path.Combine(dir, "sorting_matching-quick.md"));
            Assert.Contains("sortingmatching --quick --lengths 5 --repetitions 2 --epochs 20 --methods dsl,dlm0", table);
            Assert.Contains("| d | repetitions | DLM σ̄ = 0 | DSL (learned σ) | published DSL % perfect |", table);
            Assert.DoesNotContain("| Fenchel-Young |", table);
            // DSL against σ̄ = 0 is checked; against σ̄ = 1 and the other sign of ε there is nothing to compare with.
            string claims = table.Split('\n').Single(l => l.StartsWith("| 5 | ") && l.Contains("points"));
            Assert.EndsWith("| — | — | — |", claims.TrimEnd());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Synthetic_ranking_rate_reductions_train_past_the_first_plateau_and_no_plateau_trains_the_whole_budget()
    {
        var head = new RankingOracle(100);
        int[] checkpoints = SyntheticRankingExperiment.Checkpoints(400);
        (_, _, int once) = SyntheticRankingExperiment.TrainAndScore(head, StructuredLossKind.Blackbox, 0.01, checkpoints, 100, 50, seed: 1, reductions: 0, plateau: 3);
        (_, _, int cut) = SyntheticRankingExperiment.TrainAndScore(head, StructuredLossKind.Blackbox, 0.01, checkpoints, 100, 50, seed: 1, reductions: 2, plateau: 3);
        (double[] perfect, double[] partial, int all) = SyntheticRankingExperiment.TrainAndScore(head, StructuredLossKind.Blackbox, 0.01,
            SyntheticRankingExperiment.Checkpoints(30), 100, 50, seed: 1, reductions: 0, plateau: 0);
        Assert.True(once < 400, $"the first plateau came at epoch {once} of 400");
        // Each cut needs at least a new plateau (3 epochs) before the run may stop.
        Assert.True(cut >= once + 2 * 3 || cut == 400, $"stopped at {cut} with two cuts, at {once} without");
        Assert.Equal(30, all);
        Assert.All(partial, p => Assert.InRange(p, 0.0, 1.0));
        Assert.All(perfect.Zip(partial), q => Assert.InRange(q.First, 0.0, q.Second));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticRankingExperiment.Run(quick: true, Path.GetTempPath(), TextWriter.Null, reductions: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticRankingExperiment.Run(quick: true, Path.GetTempPath(), TextWriter.Null, plateau: -1));
    }

    [Fact]
    public void Warcraft_methods_are_chosen_by_short_key_in_table_order_and_an_unknown_key_throws()
    {
        WarcraftExperiment.Settings full = WarcraftExperiment.Settings.Full;
        Assert.Equal(WarcraftExperiment.Methods.Length, WarcraftExperiment.MethodKeys.Length);
        Assert.Equal(WarcraftExperiment.Methods.Select(m => m.Name), WarcraftExperiment.Selected(full).Select(m => m.Name));
        Assert.Equal(["FY (ε = 0.5, M = 10)", "SPO+"], WarcraftExperiment.Selected(full with { Methods = ["spo", "fy"] }).Select(m => m.Name));
        var e = Assert.Throws<ArgumentException>(() => WarcraftExperiment.Selected(full with { Methods = ["fy", "spo+"] }));
        Assert.Contains("'spo+'", e.Message);
        // A run of one method trains and reports that method alone.
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<WarcraftCurve> curves = WarcraftExperiment.Run(quick: true, dir, TextWriter.Null, WarcraftExperiment.Settings.Quick with { Methods = ["squared"] });
            Assert.Equal(["squared cost"], curves.Select(c => c.Method).Distinct());
            string table = File.ReadAllText(Path.Combine(dir, "warcraft-quick.md"));
            Assert.Contains("| squared cost |", table);
            Assert.DoesNotContain("| SPO+ |", table);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
