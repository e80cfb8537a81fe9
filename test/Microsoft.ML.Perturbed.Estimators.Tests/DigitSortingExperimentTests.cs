using Microsoft.ML.Perturbed.Experiments;
using Microsoft.ML.Perturbed.Training;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>The digit-sorting experiment: its sequences, its place-value score model, its metrics and its quick run.</summary>
public class DigitSortingExperimentTests(ITestOutputHelper output)
{
    // Ten fake 8 × 8 "images", one per digit, every pixel of image i equal to i / 16, so a number's pixels spell its value.
    private static (float[] Images, int[] Digits) FakeImages()
    {
        var images = new float[20 * 64];
        var digits = new int[20];
        for (int i = 0; i < 20; i++)
        {
            digits[i] = i % 10;
            images.AsSpan(i * 64, 64).Fill(digits[i] / 16f);
        }
        return (images, digits);
    }

    [Fact]
    public void Sequences_hold_distinct_values_their_ascending_ranks_and_only_the_pool_s_images()
    {
        (float[] images, int[] digits) = FakeImages();
        int[] pool = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];   // images 10..19 are outside the pool: their copies must never appear
        for (int i = 10; i < 20; i++) images.AsSpan(i * 64, 64).Fill(-1);
        const int n = 7, count = 50;
        (float[] x, float[] ranks, int[] values) = DigitSortingExperiment.Sequences(images, digits, pool, count, n, seed: 3);
        for (int q = 0; q < count; q++)
        {
            int[] v = values.AsSpan(q * n, n).ToArray();
            Assert.Equal(n, v.Distinct().Count());
            for (int i = 0; i < n; i++)
            {
                // Ascending ranks: the largest value gets n (the ranking oracle's convention).
                Assert.Equal(1 + v.Count(u => u < v[i]), (int)ranks[q * n + i]);
                // The four images spell the value, most significant digit first, and come from the pool.
                int spelled = 0;
                for (int d = 0; d < 4; d++)
                {
                    float[] image = x.AsSpan(((q * n + i) * 4 + d) * 64, 64).ToArray();
                    Assert.True(image.All(p => p == image[0]) && image[0] >= 0, $"sequence {q}, number {i}, place {d}: not a pool image.");
                    spelled = 10 * spelled + (int)Math.Round(image[0] * 16);
                }
                Assert.Equal(v[i], spelled);
            }
        }
    }

    [Fact]
    public void Place_value_model_backward_matches_central_finite_differences_and_scores_sum_the_places()
    {
        var model = new PlaceValueModel(places: 4, pixels: 6, hidden: [5], seed: 2);
        var rng = new System.Random(4);
        const int rows = 3;
        float[] x = Enumerable.Range(0, rows * 24).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] g = [0.7f, -1.3f, 0.4f];
        for (int i = 0; i < model.Parameters.Length; i++) model.Parameters[i] += (float)(0.1 * (rng.NextDouble() - 0.5));   // place weights differ
        const double l2 = 0.05;
        var gradient = new double[model.Parameters.Length];
        model.Backward(x, g, l2, gradient);
        // The loss the backward pass differentiates: (1/rows) Σ gᵣ sᵣ + (λ/2)‖W‖² over the weights (the biases excluded; a
        // place weight counts as a weight). Its L2 part is checked separately: remove it here by differentiating with λ = 0.
        var plain = new double[gradient.Length];
        model.Backward(x, g, 0, plain);
        double Loss()
        {
            var s = new float[rows];
            model.Score(x, s);
            return Enumerable.Range(0, rows).Sum(r => (double)g[r] * s[r]) / rows;
        }
        double Central(int i, float h)
        {
            float keep = model.Parameters[i];
            model.Parameters[i] = keep + h;
            double up = Loss();
            model.Parameters[i] = keep - h;
            double down = Loss();
            model.Parameters[i] = keep;
            return (up - down) / (2 * h);
        }
        int checkedCount = 0;
        for (int i = 0; i < model.Parameters.Length; i++)
        {
            double numeric = Central(i, 1e-2f), half = Central(i, 5e-3f);
            double decay = gradient[i] - plain[i];
            Assert.True(decay == 0 || Math.Abs(decay - l2 * model.Parameters[i]) < 1e-6, $"parameter {i}: L2 term {decay}, expected 0 or {l2 * model.Parameters[i]}.");
            if (Math.Abs(numeric - half) > 1e-3 * (1 + Math.Abs(numeric))) continue;   // the step crosses a ReLU kink: no derivative to compare
            checkedCount++;
            Assert.True(Math.Abs(numeric - plain[i]) < 2e-3 * (1 + Math.Abs(numeric)), $"parameter {i}: finite difference {numeric}, backward {plain[i]}.");
        }
        Assert.True(checkedCount >= model.Parameters.Length * 3 / 4, $"only {checkedCount} of {model.Parameters.Length} parameters away from kinks.");
        // The last parameters are the place weights, all with their L2 term.
        for (int d = 0; d < 4; d++)
        {
            int i = model.Parameters.Length - 4 + d;
            Assert.Equal(l2 * model.Parameters[i], gradient[i] - plain[i], 6);
        }
        Assert.Throws<ArgumentException>(() => model.Score(x, new float[rows + 1]));
    }

    [Fact]
    public void Precision_is_one_for_the_true_order_and_one_over_n_for_the_reversed_order_of_odd_n()
    {
        const int n = 5;
        // Rows of n items with one feature each: the model scores an item by its feature (identity) or its negative.
        float[] features = [3, 1, 4, 5, 2, 10, 30, 20, 50, 40];
        float[] ranks = [3, 1, 4, 5, 2, 1, 3, 2, 5, 4];
        var identity = new AffineModel([1f], [0f]);
        var reversed = new AffineModel([-1f], [0f]);
        var sameModel = new ItemwiseModel(n, identity);
        var reversedModel = new ItemwiseModel(n, reversed);
        Assert.Equal((1.0, 1.0), DigitSortingExperiment.Precision(sameModel, n, features, ranks));
        // Reversing the order keeps only the middle rank (3 of 5) in place: no sequence exact, partial 1/5.
        (double exact, double partial) = DigitSortingExperiment.Precision(reversedModel, n, features, ranks);
        Assert.Equal(0.0, exact);
        Assert.Equal(1.0 / n, partial, 12);
    }

    [Fact]
    public void Quick_run_on_optdigits_writes_its_table_and_figures_and_every_layer_ranks_above_chance_when_the_data_is_present()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-digits-" + Guid.NewGuid().ToString("N"));
        string? path = LabelRankingTests.DataFile("classification", "optdigits.csv");
        try
        {
            Assert.Null(DigitSortingExperiment.Run(quick: true, dir, Path.Combine(dir, "missing.csv"), TextWriter.Null));
            if (path is null)
            {
                output.WriteLine("Skipped: ../shared/data/classification/optdigits.csv is not present.");
                return;
            }
            IReadOnlyList<DigitSortingRun>? runs = DigitSortingExperiment.Run(quick: true, dir, path, TextWriter.Null);
            Assert.NotNull(runs);
            string table = File.ReadAllText(Path.Combine(dir, "digit_sorting-quick.md"));
            Assert.Matches(@"Produced by `dotnet run [^`]+ -- digitsorting --quick` at commit [0-9a-f]{7}", table);
            Assert.Contains("0.928 (0.950)", table);   // the published numbers beside ours
            foreach (string figure in new[] { "exact", "partial" })
            {
                Assert.True(new FileInfo(Path.Combine(dir, $"digit_sorting_{figure}-quick.png")).Length > 1000);
                Assert.Contains($"](digit_sorting_{figure}-quick.png)", table);
            }
            Assert.Equal((DigitSortingExperiment.Methods.Length + 1) * DigitSortingExperiment.Settings.Quick.Lengths.Length, runs!.Count);
            Assert.Contains(DigitSortingExperiment.Reference, table);
            // Chance: a random ranking puts a number at its rank with probability 1/n.
            foreach (DigitSortingRun r in runs)
                Assert.True(r.Partial > 1.0 / r.Length + 0.03, $"{r.Method}, n = {r.Length}: partial precision {r.Partial:P1}, chance {1.0 / r.Length:P1}.");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
