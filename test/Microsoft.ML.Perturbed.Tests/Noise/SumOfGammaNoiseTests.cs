using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Tests.Noise;

/// <summary>Sum-of-Gamma noise (I-MLE's): its moments, its law where it has a closed form, its Gamma sampler, its refusals.</summary>
public class SumOfGammaNoiseTests
{
    [Theory]
    [InlineData(5, 10, 1)]     // the paper's and PyEPO's default
    [InlineData(2, 3, 0.5)]
    [InlineData(0.5, 4, 2)]    // Gamma shape 2 ≥ 1: no boost
    public void Samples_have_the_known_mean_and_variance(double kappa, int terms, double temperature)
    {
        var law = new SumOfGammaNoise(kappa, terms, temperature);
        const int n = 200_000;
        var z = new float[n];
        var stream = PhiloxStream.ForSample(7, 0, 1, 2);
        law.Sample(ref stream, z);
        double mean = z.Average(v => (double)v);
        double variance = z.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        double fourth = z.Average(v => Math.Pow(v - mean, 4));
        // Standard errors: √(var/n) for the mean, √((μ₄ − σ⁴)/n) for the variance (μ₄ estimated).
        double seMean = Math.Sqrt(law.Variance / n), seVar = Math.Sqrt((fourth - variance * variance) / n);
        Assert.InRange(mean, law.Mean - 5 * seMean, law.Mean + 5 * seMean);
        Assert.InRange(variance, law.Variance - 5 * seVar, law.Variance + 5 * seVar);
        if (kappa == 5 && terms == 10 && temperature == 1)
        {
            // (1/5)(H₁₀ − ln 10) and (1/5)·Σ 1/i².
            Assert.Equal(0.2 * (7381.0 / 2520 - Math.Log(10)), law.Mean, 12);
            Assert.Equal(0.2 * 1.5497677311665408, law.Variance, 12);
        }
    }

    [Fact]
    public void With_kappa_1_it_is_the_maximum_of_s_exponentials_less_ln_s_and_passes_a_Kolmogorov_Smirnov_test()
    {
        // Σ_{i≤s} Exp(rate i) is the maximum of s standard exponentials (Rényi): CDF (1 − e^{−x}/s)^s for x > −ln s.
        const int s = 10, n = 20_000;
        var z = new float[n];
        var stream = PhiloxStream.ForSample(5, 1, 2, 3);
        new SumOfGammaNoise(1, s, 1).Sample(ref stream, z);
        Assert.True(KolmogorovSmirnov(z, x => x <= -Math.Log(s) ? 0 : Math.Pow(1 - Math.Exp(-x) / s, s)) < 1.95 / Math.Sqrt(n));
    }

    [Theory]
    [InlineData(5)]     // shape 0.2: Marsaglia–Tsang at 1.2, boosted by U^5
    [InlineData(0.4)]   // shape 2.5: Marsaglia–Tsang directly
    public void Gamma_draws_pass_a_Kolmogorov_Smirnov_test(double kappa)
    {
        const int n = 20_000;
        var law = new SumOfGammaNoise(kappa, 1, 1);
        var stream = PhiloxStream.ForSample(9, 0, 0, 0);
        double spare = double.NaN;
        var g = new float[n];
        for (int i = 0; i < n; i++) g[i] = (float)law.StandardGamma(ref stream, ref spare);
        Assert.True(KolmogorovSmirnov(g, x => MathNet.Numerics.Distributions.Gamma.CDF(1 / kappa, 1, x)) < 1.95 / Math.Sqrt(n));
    }

    [Fact]
    public void It_has_no_score_and_refuses_bad_parameters_by_name()
    {
        SumOfGammaNoise law = SumOfGammaNoise.Default;
        Assert.Equal("SumOfGamma(κ=5, s=10, τ=1)", law.Name);
        Assert.Contains("no closed-form density", Assert.Throws<NotSupportedException>(() => law.Score([0f], new float[1])).Message);
        Assert.Throws<NotSupportedException>(() => law.NegativeLogDensity(0));
        Assert.Equal("kappa", Assert.Throws<ArgumentOutOfRangeException>(() => new SumOfGammaNoise(0, 10, 1)).ParamName);
        Assert.Equal("terms", Assert.Throws<ArgumentOutOfRangeException>(() => new SumOfGammaNoise(5, 0, 1)).ParamName);
        Assert.Equal("temperature", Assert.Throws<ArgumentOutOfRangeException>(() => new SumOfGammaNoise(5, 10, double.NaN)).ParamName);
        // The same stream gives the same values.
        var a = new float[33];
        var b = new float[33];
        var s1 = PhiloxStream.ForSample(1, 2, 3, 4);
        var s2 = PhiloxStream.ForSample(1, 2, 3, 4);
        law.Sample(ref s1, a);
        law.Sample(ref s2, b);
        Assert.Equal(a, b);
    }

    private static double KolmogorovSmirnov(float[] sample, Func<double, double> cdf)
    {
        float[] sorted = sample.Order().ToArray();
        int n = sorted.Length;
        double dMax = 0;
        for (int i = 0; i < n; i++)
        {
            double f = cdf(sorted[i]);
            dMax = Math.Max(dMax, Math.Max(Math.Abs(f - (double)i / n), Math.Abs(f - (double)(i + 1) / n)));
        }
        return dMax;
    }
}
