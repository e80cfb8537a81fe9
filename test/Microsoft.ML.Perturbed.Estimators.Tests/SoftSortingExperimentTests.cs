using Microsoft.ML.Perturbed.Experiments;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// The quick versions of the soft top-k and least-quantile experiments (Cuturi et al. 2019, §5): they run, write their
/// table (with the command and the commit) and figures, their methods learn, and the soft top-k run skips without data.
/// </summary>
public class SoftSortingExperimentTests
{
    [Fact]
    public void Soft_top_k_quick_run_on_optdigits_writes_its_table_and_figure_and_learns_when_the_data_is_present()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        string? path = LabelRankingTests.DataFile("classification", "optdigits.csv");
        try
        {
            if (path is not null)   // ../shared/data is absent: nothing to run on (the runner reports the missing file itself)
            {
                IReadOnlyList<TopKPoint>? points = SoftTopKExperiment.Run(quick: true, dir, path, TextWriter.Null);
                Assert.NotNull(points);
                string table = File.ReadAllText(Path.Combine(dir, "softtopk-quick.md"));
                Assert.Contains("-- softtopk --quick", table);
                Assert.Matches(@"Produced by `dotnet run [^`]+ -- softtopk --quick` at commit [0-9a-f]{7}", table);
                foreach ((string name, _) in SoftTopKExperiment.Methods) Assert.Contains(name, table);
                Assert.True(new FileInfo(Path.Combine(dir, "softtopk-quick.png")).Length > 1000);
                foreach (TopKPoint q in points!)
                {
                    // Chance is 10 % top-1 and 30 % top-3 (two quick epochs are few for Sinkhorn at ε = 1e-3); top-j
                    // accuracy never falls as j grows.
                    Assert.True(q.TestTopK[2] > 0.35, $"{q.Method}: test top-3 accuracy {q.TestTopK[2]:P1}");
                    for (int j = 1; j < SoftTopKExperiment.MaxK; j++) Assert.True(q.TestTopK[j] >= q.TestTopK[j - 1], q.Method);
                }
                Assert.True(points!.Single(q => q.Method == SoftTopKExperiment.Methods[0].Name).TestTopK[0] > 0.8, "cross-entropy learns");
                Assert.True(points!.Single(q => q.Method == "soft top-1, Sinkhorn ε = 1e-2").TestTopK[0] > 0.6, "soft top-1 at ε = 1e-2 learns");
            }
            Assert.Null(SoftTopKExperiment.Run(quick: true, dir, Path.Combine(dir, "missing.csv"), TextWriter.Null));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Least_quantile_quick_run_writes_its_table_and_figures_and_the_quantile_losses_beat_the_squared_loss_on_their_quantile()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<QuantilePoint> points = LeastQuantileExperiment.Run(quick: true, dir, TextWriter.Null);
            string table = File.ReadAllText(Path.Combine(dir, "leastquantile-quick.md"));
            Assert.Contains("-- leastquantile --quick", table);
            Assert.Matches(@"Produced by `dotnet run [^`]+ -- leastquantile --quick` at commit [0-9a-f]{7}", table);
            foreach ((string name, _) in LeastQuantileExperiment.Methods) Assert.Contains(name, table);
            foreach (double level in LeastQuantileExperiment.Levels)
                Assert.True(new FileInfo(Path.Combine(dir, $"leastquantile_tau{100 * level:F0}-quick.png")).Length > 1000);
            Assert.Equal(LeastQuantileExperiment.Levels.Length * LeastQuantileExperiment.Methods.Length, points.Count);
            Assert.All(points, q => Assert.True(double.IsFinite(q.TestMse) && q.TestQuantile > 0, q.Method));
            // Even a few epochs fit the clean rows better with a quantile loss than with the squared loss, which the outliers pull.
            double squared = points.Single(q => q.Method == "squared loss" && q.Level == 0.5).CleanTestMse;
            Assert.True(points.Single(q => q.Method == "soft quantile, Sinkhorn ε = 1e-1" && q.Level == 0.5).CleanTestMse < squared);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
