using Microsoft.ML.Perturbed.Experiments;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>Berthet et al.'s Table 2 protocol (η and ε tuned jointly): its quick run and its refusals.</summary>
public class LabelRankingTable2ExperimentTests
{
    [Fact]
    public void Table2_quick_run_picks_pairs_from_its_grid_and_beats_a_constant_ranking_when_the_data_is_present()
    {
        string? iris = LabelRankingTests.DataFile("label_ranking", "iris.csv");
        if (iris is null) return;   // ../shared/data is absent.
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<Table2Cell>? cells = LabelRankingTable2Experiment.Run(quick: true, dir, Path.GetDirectoryName(iris)!, TextWriter.Null);
            Assert.NotNull(cells);
            Table2Cell cell = Assert.Single(cells!);
            Assert.Equal("Fenchel-Young", cell.Loss);
            Assert.Equal(3, cell.Chosen.Count);
            Assert.All(cell.Chosen, pair =>
            {
                Assert.Contains(pair.Rate, new[] { 1e-2, 1e-1 });
                Assert.Contains(pair.Epsilon, new[] { 1e-2, 1e-1 });
            });
            // A constant ranking scores about 0 on average; the tuned loss ranks far better even at 10 epochs.
            Assert.True(cell.Mean > 0.5, $"Spearman {cell.Mean:F3}.");
            Assert.Equal(LabelRankingTable2Experiment.Published[cell.Data], cell.Published);
            string table = File.ReadAllText(Path.Combine(dir, "label_ranking_table2-quick.md"));
            Assert.Contains("labelrankingtable2 --quick", table);
            Assert.Contains("| data | Fenchel-Young | Table 1 FY (η only) | time |", table);
            Assert.Contains("![label_ranking_table2](label_ranking_table2-quick.png)", table);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Table2_refuses_a_set_that_is_not_in_the_folder_and_returns_null_without_the_folder()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        Assert.Null(LabelRankingTable2Experiment.Run(quick: true, dir, Path.Combine(dir, "missing"), TextWriter.Null));
        string? iris = LabelRankingTests.DataFile("label_ranking", "iris.csv");
        if (iris is null) return;   // ../shared/data is absent.
        var error = Assert.Throws<ArgumentException>(() => LabelRankingTable2Experiment.Run(quick: true, dir, Path.GetDirectoryName(iris)!, TextWriter.Null, ["iris", "atlantis"]));
        Assert.Equal("sets", error.ParamName);
        Assert.Contains("atlantis", error.Message);
        Assert.False(Directory.Exists(dir));
    }
}
