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
}
