using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Tests.Noise;

public class NoiseDistributionTests
{
    public static TheoryData<string> Laws => new() { "Normal", "Gumbel" };

    private static NoiseDistribution Law(string name) => name == "Normal" ? NoiseDistribution.Normal : NoiseDistribution.Gumbel;

    [Theory]
    [MemberData(nameof(Laws))]
    public void Samples_have_the_law_moments_and_the_score_has_mean_zero_and_unit_variance(string name)
    {
        NoiseDistribution law = Law(name);
        const int n = 400_000;
        var z = new float[n];
        var s = PhiloxStream.ForSample(11, 0, 0, 0);
        law.Sample(ref s, z);
        var score = new float[n];
        law.Score(z, score);
        double mean = z.Average(v => (double)v);
        double variance = z.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        double expectedMean = name == "Normal" ? 0 : GumbelNoise.EulerGamma;
        double expectedVar = name == "Normal" ? 1 : Math.PI * Math.PI / 6;
        // Standard errors: √(var/n) for the mean; for the variance √((μ₄ − σ⁴)/n) with μ₄ = 3 (normal), 14.6 (Gumbel, excess kurtosis 2.4).
        double kurt = name == "Normal" ? 3 : 5.4;
        Assert.InRange(mean, expectedMean - 5 * Math.Sqrt(expectedVar / n), expectedMean + 5 * Math.Sqrt(expectedVar / n));
        double seVar = Math.Sqrt((kurt - 1) * expectedVar * expectedVar / n);
        Assert.InRange(variance, expectedVar - 5 * seVar, expectedVar + 5 * seVar);
        // E[∇ν(Z)] = 0 and E[∇ν(Z)²] = 1 for both laws (Gumbel: 1 − 2Γ(2) + Γ(3) = 1).
        double scoreMean = score.Average(v => (double)v);
        double scoreSq = score.Average(v => (double)v * v);
        Assert.InRange(scoreMean, -5 * Math.Sqrt(1.0 / n), 5 * Math.Sqrt(1.0 / n));
        Assert.InRange(scoreSq, 1 - 0.03, 1 + 0.03);
    }

    [Theory]
    [MemberData(nameof(Laws))]
    public void Score_is_the_derivative_of_the_negative_log_density(string name)
    {
        NoiseDistribution law = Law(name);
        float[] z = [-2.5f, -1f, -0.1f, 0f, 0.3f, 1.7f, 4f];
        var score = new float[z.Length];
        law.Score(z, score);
        for (int i = 0; i < z.Length; i++)
        {
            const double h = 1e-5;
            double fd = (law.NegativeLogDensity(z[i] + h) - law.NegativeLogDensity(z[i] - h)) / (2 * h);
            Assert.Equal(fd, score[i], 4);
        }
    }

    [Fact]
    public void Normal_samples_pass_a_Kolmogorov_Smirnov_test()
    {
        const int n = 20_000;
        var z = new float[n];
        var s = PhiloxStream.ForSample(5, 0, 3, 1);
        NoiseDistribution.Normal.Sample(ref s, z);
        Array.Sort(z);
        double dMax = 0;
        for (int i = 0; i < n; i++)
        {
            double cdf = MathNet.Numerics.Distributions.Normal.CDF(0, 1, z[i]);
            dMax = Math.Max(dMax, Math.Max(Math.Abs(cdf - (double)i / n), Math.Abs(cdf - (double)(i + 1) / n)));
        }
        // Critical value at α = 0.001: 1.95/√n.
        Assert.True(dMax < 1.95 / Math.Sqrt(n), $"KS distance {dMax}");
    }

    [Fact]
    public void Gumbel_samples_pass_a_Kolmogorov_Smirnov_test()
    {
        const int n = 20_000;
        var z = new float[n];
        var s = PhiloxStream.ForSample(5, 0, 3, 2);
        NoiseDistribution.Gumbel.Sample(ref s, z);
        Array.Sort(z);
        double dMax = 0;
        for (int i = 0; i < n; i++)
        {
            double cdf = Math.Exp(-Math.Exp(-z[i]));
            dMax = Math.Max(dMax, Math.Max(Math.Abs(cdf - (double)i / n), Math.Abs(cdf - (double)(i + 1) / n)));
        }
        Assert.True(dMax < 1.95 / Math.Sqrt(n), $"KS distance {dMax}");
    }
}
