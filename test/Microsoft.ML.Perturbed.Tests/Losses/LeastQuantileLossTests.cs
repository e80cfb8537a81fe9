using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Losses;

/// <summary>
/// The batch-level least-quantile regression loss (Cuturi et al. 2019, §5), its own contract since the per-row registry's
/// does not fit it (a row depends on its batch): the exact quantile against brute force, the soft ones tending to it as
/// ε → 0, the gradient against finite differences of the batch's value, the same bits whatever the thread count (the
/// loss and a training run), bad input named, and that it fits through gross outliers where the squared loss does not.
/// </summary>
public class LeastQuantileLossTests
{
    private static StructuredLoss Loss(SoftRankingMethod method, double epsilon, double level, double? width = null, int threads = -1) =>
        StructuredLoss.LeastQuantile(new StructuredLossOptions
        {
            SoftRankMethod = method, Epsilon = epsilon, QuantileLevel = level, QuantileWidth = width, MaxDegreeOfParallelism = threads,
        });

    private static (float[] Theta, float[] Target) Batch(int b, int seed)
    {
        var rng = new System.Random(seed);
        return (TestMath.RandomVector(rng, b, 3), TestMath.RandomVector(rng, b, 3));
    }

    private static (double Value, float[] Gradient) Evaluate(StructuredLoss loss, float[] theta, float[] target)
    {
        var values = new float[theta.Length];
        var gradient = new float[theta.Length];
        double mean = loss.Evaluate(theta, target, values, gradient);
        Assert.All(values, v => Assert.Equal(values[0], v));   // every row reports the batch's value
        return (mean, gradient);
    }

    /// <summary>The mean of the sorted residuals over the window [τ − t/2, τ + t/2] of their distribution, by brute force.</summary>
    private static double WindowMean(float[] theta, float[] target, double level, double width)
    {
        double[] x = theta.Select((v, r) => Math.Abs((double)v - target[r])).Order().ToArray();
        int b = x.Length;
        double low = level - width / 2, high = level + width / 2, sum = 0;
        for (int i = 0; i < b; i++) sum += Math.Max(0, Math.Min(high, (i + 1.0) / b) - Math.Max(low, (double)i / b)) * x[i];
        return sum / width;
    }

    [Fact]
    public void The_exact_quantile_is_the_brute_force_order_statistic()
    {
        // Odd b, τ = ½, t = 1/b: the median; even b: the mean of the two middle residuals; τ = 0.9: the 90 % order statistic.
        (float[] theta, float[] target) = Batch(9, 1);
        double[] sorted = theta.Select((v, r) => Math.Abs((double)v - target[r])).Order().ToArray();
        Assert.Equal(sorted[4], Evaluate(LeastQuantileLoss.Exact(0.5), theta, target).Value, 6);
        (float[] theta10, float[] target10) = Batch(10, 2);
        double[] sorted10 = theta10.Select((v, r) => Math.Abs((double)v - target10[r])).Order().ToArray();
        Assert.Equal((sorted10[4] + sorted10[5]) / 2, Evaluate(LeastQuantileLoss.Exact(0.5), theta10, target10).Value, 6);
        Assert.Equal(sorted10[8] * 0.5 + sorted10[9] * 0.5, Evaluate(LeastQuantileLoss.Exact(0.9), theta10, target10).Value, 6);   // window [0.85, 0.95]
        (float[] theta50, float[] target50) = Batch(50, 3);
        foreach (double level in new[] { 0.1, 0.5, 0.9 })
        {
            foreach (double? width in new double?[] { null, 0.1 })
            {
                double expected = WindowMean(theta50, target50, level, width ?? 1.0 / 50);
                Assert.Equal(expected, Evaluate(LeastQuantileLoss.Exact(level, width), theta50, target50).Value, 5);
            }
        }
    }

    [Fact]
    public void The_exact_gradient_steps_on_the_residuals_the_window_holds()
    {
        (float[] theta, float[] target) = Batch(9, 4);
        (_, float[] gradient) = Evaluate(LeastQuantileLoss.Exact(0.5), theta, target);
        int median = Enumerable.Range(0, 9).OrderBy(r => Math.Abs((double)theta[r] - target[r])).ElementAt(4);
        for (int r = 0; r < 9; r++)
        {
            // b·∂q/∂θᵣ: ±9 on the median's row (the sign of its residual), 0 elsewhere.
            Assert.Equal(r == median ? 9 * Math.Sign(theta[r] - target[r]) : 0, gradient[r], 5);
        }
    }

    [Theory]
    [InlineData(SoftRankingMethod.Sinkhorn, 0.5)]
    [InlineData(SoftRankingMethod.Sinkhorn, 0.9)]
    [InlineData(SoftRankingMethod.PermutahedronL2, 0.5)]
    [InlineData(SoftRankingMethod.PermutahedronKL, 0.9)]
    public void The_soft_quantile_tends_to_the_exact_one_as_epsilon_shrinks(SoftRankingMethod method, double level)
    {
        (float[] theta, float[] target) = Batch(64, 5);
        double exact = WindowMean(theta, target, level, 1.0 / 64);
        // Sinkhorn below 3e-3 needs more than its 1000 iterations at b = 64 (the iterations grow like 1/ε); a capped row stays
        // in range but is no closer.
        double[] epsilons = method == SoftRankingMethod.Sinkhorn ? [1e-1, 1e-2, 3e-3] : [1, 1e-1, 1e-3];
        double previous = double.PositiveInfinity;
        foreach (double epsilon in epsilons)
        {
            double error = Math.Abs(Evaluate(Loss(method, epsilon, level), theta, target).Value - exact);
            Assert.True(error <= previous, $"{method} τ {level}: |q_ε − q| = {error} at ε = {epsilon}, {previous} before");
            previous = error;
        }
        Assert.True(previous < 0.02 * (1 + exact), $"{method} τ {level}: |q_ε − q| = {previous} at the smallest ε (q = {exact})");
    }

    [Theory]
    [InlineData(SoftRankingMethod.Sinkhorn, 0.05, 0.5)]
    [InlineData(SoftRankingMethod.Sinkhorn, 0.05, 0.9)]
    [InlineData(SoftRankingMethod.PermutahedronL2, 0.3, 0.5)]
    public void Gradient_is_b_times_the_derivative_of_the_batch_value(SoftRankingMethod method, double epsilon, double level)
    {
        const int b = 24;
        StructuredLoss loss = Loss(method, epsilon, level, width: 0.1);
        (float[] theta, float[] target) = Batch(b, 6);
        (_, float[] gradient) = Evaluate(loss, theta, target);
        int checkedRows = 0;
        for (int r = 0; r < b; r++)
        {
            double Fd(float h)
            {
                float[] plus = (float[])theta.Clone(), minus = (float[])theta.Clone();
                plus[r] += h;
                minus[r] -= h;
                return (Evaluate(loss, plus, target).Value - Evaluate(loss, minus, target).Value) / ((double)plus[r] - minus[r]);
            }
            double coarse = Fd(4e-3f), fine = Fd(1e-3f);
            if (Math.Abs(coarse - fine) > 1e-2 * (1 + Math.Abs(coarse))) continue;   // a kink (|·|, a PAV block, the stopping rule) inside the step
            checkedRows++;
            Assert.True(Math.Abs(b * fine - gradient[r]) <= 3e-2 * (1 + Math.Abs(b * fine)), $"{method} τ {level}: row {r}: b·∂q/∂θ by differences {b * fine}, gradient {gradient[r]}");
        }
        Assert.True(checkedRows >= 3 * b / 4, $"only {checkedRows} of {b} rows away from a kink");
    }

    [Fact]
    public void A_batch_too_small_for_its_window_narrows_it()
    {
        // τ = 0.9 with t = 1/b does not fit below 1 for b ≤ 5: the window shrinks to fit, so one residual gives itself and two
        // give the larger.
        Assert.Equal(2.5, Evaluate(Loss(SoftRankingMethod.Sinkhorn, 1e-3, 0.9), [3.5f], [1]).Value, 3);
        Assert.Equal(2.0, Evaluate(LeastQuantileLoss.Exact(0.9), [1.5f, 3], [1, 1]).Value, 6);
        Assert.Equal(1.25, Evaluate(LeastQuantileLoss.Exact(0.5), [1.5f, 3], [1, 1]).Value, 6);
    }

    [Fact]
    public void Same_bits_on_one_and_all_threads()
    {
        (float[] theta, float[] target) = Batch(200, 7);
        foreach (SoftRankingMethod method in new[] { SoftRankingMethod.Sinkhorn, SoftRankingMethod.PermutahedronL2 })
        {
            (double v1, float[] g1) = Evaluate(Loss(method, 0.01, 0.9, threads: 1), theta, target);
            (double v2, float[] g2) = Evaluate(Loss(method, 0.01, 0.9, threads: -1), theta, target);
            Assert.Equal(v1, v2);
            Assert.Equal(g1, g2);
        }
        (float[] x, float[] z) = Outliers(300, 0.2, 8);
        float[] Train(int threads) => Predict(StructuredTrainer.Fit(Regression(), x, z, 2, new StructuredTrainerOptions
        {
            LossFactory = _ => Loss(SoftRankingMethod.Sinkhorn, 0.01, 0.5, threads: threads), HiddenLayers = [8], NumberOfIterations = 3,
            BatchSize = 64, Seed = 2, MaxDegreeOfParallelism = threads,
        }), x);
        Assert.Equal(Train(1), Train(-1));
    }

    [Fact]
    public void Bad_input_is_named()
    {
        Assert.Equal("QuantileLevel", Assert.ThrowsAny<ArgumentException>(() => Loss(SoftRankingMethod.Sinkhorn, 0.01, 0)).ParamName);
        Assert.Equal("QuantileLevel", Assert.ThrowsAny<ArgumentException>(() => Loss(SoftRankingMethod.Sinkhorn, 0.01, 1)).ParamName);
        Assert.Equal("QuantileLevel", Assert.ThrowsAny<ArgumentException>(() => Loss(SoftRankingMethod.Sinkhorn, 0.01, double.NaN)).ParamName);
        Assert.Equal("QuantileWidth", Assert.ThrowsAny<ArgumentException>(() => Loss(SoftRankingMethod.Sinkhorn, 0.01, 0.5, width: 0)).ParamName);
        Assert.Equal("QuantileWidth", Assert.ThrowsAny<ArgumentException>(() => Loss(SoftRankingMethod.Sinkhorn, 0.01, 0.5, width: 1.5)).ParamName);
        Assert.Equal("SoftRankMethod", Assert.ThrowsAny<ArgumentException>(() => Loss(SoftRankingMethod.Perturbed, 0.01, 0.5)).ParamName);
        Assert.Equal("Epsilon", Assert.ThrowsAny<ArgumentException>(() => Loss(SoftRankingMethod.Sinkhorn, 1e-7, 0.5)).ParamName);
        StructuredLoss loss = Loss(SoftRankingMethod.Sinkhorn, 0.01, 0.5);
        var e = Assert.ThrowsAny<ArgumentException>(() => loss.Evaluate([1, float.NaN], [0, 0], new float[2], new float[2]));
        Assert.Equal("theta", e.ParamName);
        Assert.Contains("row 1", e.Message);
        Assert.Equal("target", Assert.ThrowsAny<ArgumentException>(() => loss.Evaluate([1, 2], [0, float.PositiveInfinity], new float[2], new float[2])).ParamName);
        Assert.Equal("target", Assert.ThrowsAny<ArgumentException>(() => loss.Evaluate([1, 2], [0], new float[2], new float[2])).ParamName);
        // Example weights would weigh rows of a value that is one per batch: refused, naming the training rows.
        var weighted = Assert.ThrowsAny<ArgumentException>(() => StructuredTrainer.Fit(Regression(), [1, 2], [1, 2], [1, 1], 1,
            new StructuredTrainerOptions { LossFactory = _ => loss }));
        Assert.Equal("training", weighted.ParamName);
        Assert.Contains("weights", weighted.Message);
    }

    [Fact]
    public void Least_median_regression_fits_through_gross_outliers_where_squared_loss_does_not()
    {
        // z = 2·x₁ − x₂ + small noise, 30 % of the responses replaced by gross outliers (+20 … +40): a linear least-median fit
        // keeps the clean rows' residuals small; least squares is dragged up by the outliers.
        (float[] x, float[] z) = Outliers(600, 0.3, 9);
        var clean = Enumerable.Range(0, 600).Where(r => Math.Abs(z[r] - (2 * x[2 * r] - x[2 * r + 1])) < 1).ToArray();
        double CleanError(StructuredTrainerOptions options)
        {
            float[] prediction = Predict(StructuredTrainer.Fit(Regression(), x, z, 2, options), x);
            return clean.Select(r => Math.Abs(prediction[r] - (2 * x[2 * r] - x[2 * r + 1]))).Average();
        }
        double median = CleanError(new StructuredTrainerOptions
        {
            LossFactory = _ => Loss(SoftRankingMethod.Sinkhorn, 0.01, 0.5), NumberOfIterations = 60, BatchSize = 128, LearningRate = 0.05, Seed = 3,
        });
        double squared = CleanError(new StructuredTrainerOptions
        {
            Loss = StructuredLossKind.SquaredScores, NumberOfIterations = 60, BatchSize = 128, LearningRate = 0.05, Seed = 3,
        });
        Assert.True(median < 0.5, $"least-median regression: mean error on the clean rows {median}");
        Assert.True(squared > 4 * median, $"squared loss {squared} against least-median {median} on the clean rows");
    }

    private static float[] Predict(IScoreModel model, float[] x)
    {
        var scores = new float[x.Length / model.Features];
        model.Score(x, scores);
        return scores;
    }

    private static Oracle Regression() => Oracle.Create(1, 1, (theta, y) => theta.CopyTo(y), "Regression");

    private static (float[] X, float[] Z) Outliers(int rows, double share, int seed)
    {
        var rng = new System.Random(seed);
        var x = new float[rows * 2];
        var z = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            x[2 * r] = (float)(rng.NextDouble() * 2 - 1);
            x[2 * r + 1] = (float)(rng.NextDouble() * 2 - 1);
            z[r] = 2 * x[2 * r] - x[2 * r + 1] + (float)(0.05 * (rng.NextDouble() - 0.5));
            if (rng.NextDouble() < share) z[r] += (float)(20 + 20 * rng.NextDouble());
        }
        return (x, z);
    }
}
