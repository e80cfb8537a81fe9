using Microsoft.ML.Perturbed.Experiments;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>The Globe-TSP analogue: its distance model's derivative, its metrics, and its quick run.</summary>
public class GlobeTspExperimentTests
{
    [Fact]
    public void The_distance_model_backward_pass_is_the_derivative_of_the_mean_inner_product_with_the_score_gradient()
    {
        const int k = 4, p = 3, batch = 2;
        var model = new GlobeTspModel(MlpModel.Random(p, [5], 3, seed: 7), k);
        var random = new System.Random(3);
        float[] x = Enumerable.Range(0, batch * k * p).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] g = Enumerable.Range(0, batch * model.Outputs).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var gradient = new double[model.Parameters.Length];
        model.Backward(x, g, 0, gradient);
        double Objective()
        {
            var theta = new float[batch * model.Outputs];
            model.Score(x, theta);
            double sum = 0;
            for (int i = 0; i < theta.Length; i++) sum += (double)g[i] * theta[i];
            return sum / batch;
        }
        const float h = 1e-2f;
        for (int i = 0; i < gradient.Length; i++)
        {
            float keep = model.Parameters[i];
            model.Parameters[i] = keep + h;
            double up = Objective();
            model.Parameters[i] = keep - h;
            double down = Objective();
            model.Parameters[i] = keep;
            double numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) <= 2e-3 + 2e-2 * Math.Abs(numeric), $"parameter {i}: backward {gradient[i]:G6}, finite difference {numeric:G6}.");
        }
    }

    [Fact]
    public void The_distances_are_those_of_the_embedded_points_in_the_oracles_edge_order()
    {
        const int k = 5;
        var model = new GlobeTspModel(MlpModel.Random(GlobeTspExperiment.FlagFeatures, [4], 3, seed: 1), k);
        GlobeTspExperiment.World world = GlobeTspExperiment.World.Create(0);
        (float[] x, _) = world.Instances(k, 1, seed: 2);
        float[] points = model.Embed(x);
        var theta = new float[model.Outputs];
        model.Score(x, theta);
        for (int i = 0; i < k; i++)
        {
            for (int j = i + 1; j < k; j++)
            {
                double d = Math.Sqrt(Enumerable.Range(0, 3).Sum(c => Math.Pow(points[i * 3 + c] - points[j * 3 + c], 2)));
                Assert.Equal(d, theta[TravelingSalesmanOracle.EdgeIndex(k, i, j)], 1e-4);
            }
        }
    }

    [Fact]
    public void A_model_of_the_true_costs_scores_every_tour_exactly_and_a_constant_one_does_not()
    {
        const int k = 6;
        Oracle head = Oracle.TravelingSalesman(k);
        GlobeTspExperiment.World world = GlobeTspExperiment.World.Create(0);
        (float[] x, float[] c) = world.Instances(k, 50, seed: 4);
        var truth = new FixedScores(c, head.Dimension, k * GlobeTspExperiment.FlagFeatures);
        (double accuracy, double gap, double mean, _) = GlobeTspExperiment.Score(head, truth, x, c);
        Assert.Equal(1, accuracy);
        Assert.Equal(0, gap, 12);
        Assert.InRange(mean, 1.0, 1.7);   // chord distances of uniform points on the unit sphere average 4/3
        // Constant costs: the tie rule's tour 0 → 1 → … → k − 1, optimal only by chance, and never shorter than the optimum.
        var flat = new FixedScores(Enumerable.Repeat(1f, c.Length).ToArray(), head.Dimension, k * GlobeTspExperiment.FlagFeatures);
        (double flatAccuracy, double flatGap, _, double flatSpread) = GlobeTspExperiment.Score(head, flat, x, c);
        Assert.True(flatAccuracy < 0.2, $"accuracy {flatAccuracy}.");
        Assert.True(flatGap > 0.05, $"suboptimality {flatGap}.");
        Assert.Equal(0, flatSpread, 12);
    }

    [Fact]
    public void Globe_tsp_quick_run_writes_its_table_and_figures_and_learns_tours_far_above_chance()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<GlobeTspCell> cells = GlobeTspExperiment.Run(quick: true, dir, TextWriter.Null);
            Assert.Equal(4, cells.Count);
            Assert.Equal(1, cells.Single(c => c.Method == GlobeTspExperiment.TrueCosts).Accuracy);
            double untrained = cells.Single(c => c.Method == GlobeTspExperiment.Untrained).Accuracy;
            foreach (GlobeTspCell cell in cells.Where(c => !c.Method.StartsWith('(')))
            {
                // k = 5 has 12 tours (a guess is right 1 time in 12); a random network already keeps some of the geometry the flags
                // encode, and the quick run's 3 epochs learn well beyond it.
                Assert.True(cell.Accuracy > untrained + 0.2, $"{cell.Method}: tour accuracy {cell.Accuracy:P1}, untrained {untrained:P1}.");
                Assert.InRange(cell.Suboptimality, 0, 0.05);
            }
            string table = File.ReadAllText(Path.Combine(dir, "globe_tsp-quick.md"));
            Assert.Contains("globetsp --quick", table);
            Assert.Contains("![globe_tsp_accuracy](globe_tsp_accuracy-quick.png)", table);
            Assert.True(File.Exists(Path.Combine(dir, "globe_tsp_accuracy-quick.png")));
            Assert.True(File.Exists(Path.Combine(dir, "globe_tsp_costs-quick.png")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A score model that returns given scores row by row (the features only count the rows).</summary>
    private sealed class FixedScores(float[] scores, int outputs, int features) : IScoreModel
    {
        public int Features => features;

        public int Outputs => outputs;

        public void Score(ReadOnlySpan<float> x, Span<float> theta) => scores.AsSpan(0, x.Length / features * outputs).CopyTo(theta);
    }
}
