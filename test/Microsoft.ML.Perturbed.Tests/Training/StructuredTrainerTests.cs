using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Random;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Training;

public class StructuredTrainerTests
{
    /// <summary>The paper's synthetic label ranking: x ~ N(0, I_p), labels = ascending ranks of xᵀW₀ + σZ.</summary>
    private static (float[] X, float[] Y, float[] W0) Synthetic(int n, int p, int d, double sigma, int seed)
    {
        var x = new float[n * p];
        var w0 = new float[d * p];
        var noise = new float[n * d];
        var s1 = PhiloxStream.ForSample(seed, 1, 0, 0);
        var s2 = PhiloxStream.ForSample(seed, 2, 0, 0);
        var s3 = PhiloxStream.ForSample(seed, 3, 0, 0);
        NoiseDistribution.Normal.Sample(ref s1, x);
        NoiseDistribution.Normal.Sample(ref s2, w0);
        NoiseDistribution.Normal.Sample(ref s3, noise);
        var model = new AffineModel(w0, new float[d]);
        var theta = new float[n * d];
        model.Score(x, theta);
        for (int i = 0; i < theta.Length; i++) theta[i] += (float)sigma * noise[i];
        var y = new float[n * d];
        new RankingOracle(d).Solve(theta, y);
        return (x, y, w0);
    }

    private static double Spearman(ReadOnlySpan<float> predicted, ReadOnlySpan<float> target, int d)
    {
        // Both are rank vectors of 1..d: ρ = 1 − 6 Σ δ² / (d(d² − 1)), averaged over rows.
        int rows = predicted.Length / d;
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int k = 0; k < d; k++) s += Math.Pow(predicted[r * d + k] - target[r * d + k], 2);
            total += 1 - 6 * s / (d * ((double)d * d - 1));
        }
        return total / rows;
    }

    [Theory]
    [InlineData(StructuredLossKind.FenchelYoung)]
    [InlineData(StructuredLossKind.SquaredScores)]
    public void Learns_the_synthetic_label_ranking_task(StructuredLossKind loss)
    {
        const int p = 10, d = 8, n = 1500;
        (float[] x, float[] y, _) = Synthetic(n + 500, p, d, sigma: 0.1, seed: 3);
        var head = new RankingOracle(d);
        AffineModel model = StructuredTrainer.Train(head, x.AsSpan(0, n * p), y.AsSpan(0, n * d), p,
            new StructuredTrainerOptions { Loss = loss, Epsilon = 0.5, Samples = 5, NumberOfIterations = 30, LearningRate = 0.05, Seed = 1 });
        var theta = new float[500 * d];
        model.Score(x.AsSpan(n * p), theta);
        var predicted = new float[500 * d];
        head.Solve(theta, predicted);
        // The labels are the ranking of a linear function plus small noise (σ = 0.1 against |xᵀw| ~ √p ≈ 3), so an affine
        // model can rank held-out rows almost perfectly; 0.9 leaves room for the ties the noise flips.
        double rho = Spearman(predicted, y.AsSpan(n * d), d);
        Assert.True(rho > 0.9, $"held-out Spearman {rho:F3}");
    }

    [Theory]
    [InlineData(StructuredLossKind.FenchelYoung)]
    [InlineData(StructuredLossKind.PerturbedSquared)]
    [InlineData(StructuredLossKind.Blackbox)]
    public void Learns_separable_classes(StructuredLossKind loss)
    {
        // Three Gaussian blobs far apart in 4 dimensions: any sound loss reaches (near) perfect accuracy.
        const int p = 4, d = 3, n = 600;
        var x = new float[n * p];
        var y = new float[n * d];
        var s = PhiloxStream.ForSample(5, 0, 0, 0);
        NoiseDistribution.Normal.Sample(ref s, x);
        for (int r = 0; r < n; r++)
        {
            int c = r % d;
            x[r * p + c] += 6;
            y[r * d + c] = 1;
        }
        var head = new ArgmaxOracle(d);
        AffineModel model = StructuredTrainer.Train(head, x, y, p,
            new StructuredTrainerOptions { Loss = loss, Epsilon = 0.5, Samples = 5, NumberOfIterations = 20, LearningRate = 0.05, Seed = 2 });
        var theta = new float[n * d];
        model.Score(x, theta);
        int correct = 0;
        for (int r = 0; r < n; r++) if (ArgmaxOracle.IndexOfMax(theta.AsSpan(r * d, d)) == r % d) correct++;
        Assert.True(correct >= 0.98 * n, $"{loss}: accuracy {correct / (double)n:P1}");
    }

    [Fact]
    public void Blackbox_gradient_points_downhill_for_a_maximizing_oracle()
    {
        // Predicted class 0, target class 2: descending the gradient must lower θ₀ and raise θ₂.
        var loss = StructuredLoss.Create(new ArgmaxOracle(3), StructuredLossKind.Blackbox, new StructuredLossOptions { BlackboxLambda = 5, Projection = ScoreProjection.None });
        var g = new float[3];
        loss.Evaluate([1f, 0f, 0.5f], [0, 0, 1], new float[1], g, 0);
        Assert.True(g[0] > 0 && g[2] < 0, $"gradient [{string.Join(", ", g)}]");
    }

    [Fact]
    public void Same_seed_same_model_bit_for_bit_with_one_or_all_threads()
    {
        const int p = 6, d = 5, n = 300;
        (float[] x, float[] y, _) = Synthetic(n, p, d, 0.3, seed: 4);
        float[] Run(int threads, int seed) => StructuredTrainer.Train(new RankingOracle(d), x, y, p,
            new StructuredTrainerOptions { NumberOfIterations = 3, Seed = seed, MaxDegreeOfParallelism = threads }).Weights.ToArray();
        Assert.Equal(Run(1, 7), Run(-1, 7));
        Assert.NotEqual(Run(1, 7), Run(1, 8));
    }

    [Fact]
    public void Early_stopping_keeps_the_best_validation_model_and_reports_progress()
    {
        const int p = 6, d = 5;
        (float[] x, float[] y, _) = Synthetic(400, p, d, 0.3, seed: 6);
        var reports = new List<TrainingProgress>();
        var progress = new SynchronousProgress(reports.Add);
        StructuredTrainer.Train(new RankingOracle(d), x.AsSpan(0, 300 * p), y.AsSpan(0, 300 * d), p,
            new StructuredTrainerOptions { NumberOfIterations = 200, LearningRate = 0.5, EarlyStoppingPatience = 2, Seed = 1 },
            x.AsSpan(300 * p), y.AsSpan(300 * d), progress);
        Assert.InRange(reports.Count, 3, 199);   // stopped early
        Assert.All(reports, r => Assert.True(double.IsFinite(r.ValidationLoss)));
        // Only the last report says it stopped; the best epoch is the running argmin of the validation loss, the patience before the stop.
        Assert.Equal(reports.Count - 1, reports.Count(r => !r.StoppedEarly));
        Assert.True(reports[^1].StoppedEarly);
        Assert.Equal(reports.Count - 2, reports[^1].BestEpoch);
        for (int e = 1; e <= reports.Count; e++)
        {
            var seen = reports.Take(e).ToList();
            Assert.Equal(seen.IndexOf(seen.MinBy(r => r.ValidationLoss)) + 1, reports[e - 1].BestEpoch);
        }
    }

    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    [Fact]
    public void Bad_options_and_data_throw()
    {
        var head = new ArgmaxOracle(2);
        float[] x = [1, 2, 3, 4];
        float[] y = [1, 0, 0, 1];
        Assert.Throws<ArgumentOutOfRangeException>(() => StructuredTrainer.Train(head, x, y, 2, new StructuredTrainerOptions { LearningRate = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => StructuredTrainer.Train(head, x, y, 2, new StructuredTrainerOptions { Epsilon = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => StructuredTrainer.Train(head, x, y, 2, new StructuredTrainerOptions { NumberOfIterations = 0 }));
        Assert.Contains("row 1, column 0", Assert.Throws<ArgumentException>(() => StructuredTrainer.Train(head, [1, 2, float.NaN, 4], y, 2)).Message);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => StructuredTrainer.Train(head, x, [1, 0, 0], 2)).ParamName);
        Assert.Throws<ArgumentException>(() => StructuredTrainer.Train(head, [], [], 2));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => StructuredTrainer.Train(head, x, y, 2, cancellationToken: cts.Token));
    }
}
