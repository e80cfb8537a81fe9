using Microsoft.ML.Perturbed.Experiments;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>The L2X-style subset-selection experiment: its network's gradients, its data and its quick run.</summary>
public class SubsetSelectionExperimentTests
{
    [Fact]
    public void Two_layer_network_input_gradient_and_parameter_step_follow_central_finite_differences()
    {
        const int inputs = 5, hidden = 4, outputs = 3, rows = 2;
        var rng = new System.Random(1);
        float[] x = Enumerable.Range(0, rows * inputs).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] g = Enumerable.Range(0, rows * outputs).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var network = new TwoLayerNetwork(inputs, hidden, outputs, seed: 5, learningRate: 1e-3);
        double Loss(float[] at)
        {
            var y = new float[rows * outputs];
            network.Score(at, y);
            return Enumerable.Range(0, y.Length).Sum(i => (double)g[i] * y[i]);
        }
        var inputGradient = new float[x.Length];
        network.Backward(x, g, inputGradient);
        const float h = 1e-3f;
        for (int i = 0; i < x.Length; i++)
        {
            float[] up = (float[])x.Clone(), down = (float[])x.Clone();
            up[i] += h;
            down[i] -= h;
            double numeric = (Loss(up) - Loss(down)) / (2 * h);
            Assert.True(Math.Abs(numeric - inputGradient[i]) < 2e-3, $"input {i}: finite difference {numeric}, backward {inputGradient[i]}.");
        }
        // The row-wise squared-error gradient of a one-output network: s·(ŷ − t)² differentiated in the inputs.
        var single = new TwoLayerNetwork(inputs, hidden, 1, seed: 6, learningRate: 1e-3);
        float[] row = x[..inputs];
        const float target = 0.3f;
        const double scale = 0.25;
        double Squared(float[] at)
        {
            var y = new float[1];
            single.Score(at, y);
            return scale * (y[0] - target) * (y[0] - target);
        }
        var rowGradient = new float[inputs];
        single.SquaredErrorInputGradient(row, target, scale, rowGradient);
        for (int i = 0; i < inputs; i++)
        {
            float[] up = (float[])row.Clone(), down = (float[])row.Clone();
            up[i] += h;
            down[i] -= h;
            double numeric = (Squared(up) - Squared(down)) / (2 * h);
            Assert.True(Math.Abs(numeric - rowGradient[i]) < 2e-3, $"row input {i}: finite difference {numeric}, gradient {rowGradient[i]}.");
        }
        Assert.Throws<InvalidOperationException>(() => network.SquaredErrorInputGradient(row, target, scale, rowGradient));
        // An Adam step moves against the gradient: the loss ⟨g, y⟩ falls.
        double before = Loss(x);
        network.Step();
        Assert.True(Loss(x) < before, $"loss {before} did not fall after a step ({Loss(x)}).");
    }

    [Fact]
    public void Data_depend_on_the_relevant_subset_only_and_are_reproducible()
    {
        const int k = 5, n = 4000;
        (float[] x, float[] y, int[] relevant) = SubsetSelectionExperiment.Data(k, n, seed: 2);
        (float[] x2, float[] y2, int[] relevant2) = SubsetSelectionExperiment.Data(k, n, seed: 2);
        Assert.Equal(x, x2);
        Assert.Equal(y, y2);
        Assert.Equal(relevant, relevant2);
        Assert.Equal(k, relevant.Distinct().Count());
        Assert.All(relevant, j => Assert.InRange(j, 0, 99));
        // Independent standard features: y's correlation with a relevant feature is about wᵢ/sd(y) (|wᵢ| ≥ 0.5), with an
        // irrelevant one about 0 (within a few standard errors 1/√n).
        double Correlation(int j)
        {
            double sxy = 0, sxx = 0, syy = 0, my = y.Average(), mx = 0;
            for (int r = 0; r < n; r++) mx += x[r * 100 + j];
            mx /= n;
            for (int r = 0; r < n; r++)
            {
                double a = x[r * 100 + j] - mx, b = y[r] - my;
                sxy += a * b;
                sxx += a * a;
                syy += b * b;
            }
            return sxy / Math.Sqrt(sxx * syy);
        }
        for (int j = 0; j < 100; j++)
        {
            double c = Math.Abs(Correlation(j));
            if (relevant.Contains(j)) Assert.True(c > 0.15, $"relevant feature {j}: |correlation| {c:F3}.");
            else Assert.True(c < 5 / Math.Sqrt(n), $"irrelevant feature {j}: |correlation| {c:F3}.");
        }
        Assert.NotEqual(relevant, SubsetSelectionExperiment.Data(k, 10, seed: 3).Relevant);
    }

    [Fact]
    public void Quick_run_writes_its_table_and_figures_and_every_layer_finds_relevant_features_far_above_chance()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-subset-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<SubsetSelectionRun> runs = SubsetSelectionExperiment.Run(quick: true, dir, TextWriter.Null);
            string table = File.ReadAllText(Path.Combine(dir, "subset_selection-quick.md"));
            Assert.Matches(@"Produced by `dotnet run [^`]+ -- subsetselection --quick` at commit [0-9a-f]{7}", table);
            foreach (string figure in new[] { "precision", "mse" })
            {
                Assert.True(new FileInfo(Path.Combine(dir, $"subset_selection_{figure}-quick.png")).Length > 1000);
                Assert.Contains($"](subset_selection_{figure}-quick.png)", table);
            }
            SubsetSelectionRun reference = runs.Single(r => r.Method.StartsWith("true subset"));
            Assert.Equal(1.0, reference.Precision);
            foreach (SubsetSelectionRun r in runs)
            {
                // Chance: k random features of 100 hold k/100 of S's features on average (5 % at k = 5).
                Assert.True(r.Precision > 0.25, $"{r.Method}: precision {r.Precision:P1}, chance {r.K / 100.0:P0}.");
                // The predictor explains part of y's variance (1 = predicting the mean), and none beats the true subset by much.
                Assert.True(r.TestMse < 0.9 && double.IsFinite(r.TestMse), $"{r.Method}: test MSE {r.TestMse}.");
                Assert.True(r.TestMse > reference.TestMse - 0.05, $"{r.Method}: test MSE {r.TestMse} below the true subset's {reference.TestMse}.");
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
