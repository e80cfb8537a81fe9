using System.Runtime.Intrinsics;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Tests.Noise;

/// <summary>The samplers' vector ln and sin/cos against double-precision Math over their whole input ranges.</summary>
public class NoiseMathTests
{
    [Fact]
    public void Log_is_within_a_few_ulps_over_the_uniforms_and_their_negative_logs()
    {
        // Every 97th of the 2²³ uniforms (2b + 1)·2⁻²⁴, the extremes, and −ln of them (the Gumbel sampler's second ln).
        var inputs = new List<float> { PhiloxStream.ToOpenUnitSingle(0), PhiloxStream.ToOpenUnitSingle(uint.MaxValue) };
        for (uint b = 0; b < 1u << 23; b += 97) inputs.Add(PhiloxStream.ToOpenUnitSingle(b << 9));
        int count = inputs.Count;
        for (int i = 0; i < count; i++) inputs.Add(-MathF.Log(inputs[i]));
        while (inputs.Count % 8 != 0) inputs.Add(1f);
        double worst = 0, at = 0, got = 0;
        for (int i = 0; i < inputs.Count; i += 8)
        {
            Vector256<float> y = NoiseMath.Log(Vector256.Create(inputs.ToArray(), i));
            for (int l = 0; l < 8; l++)
            {
                double x = inputs[i + l], exact = Math.Log(x);
                double ulp = Math.Max(MathF.BitIncrement((float)Math.Abs(exact)) - (float)Math.Abs(exact), float.Epsilon);
                double e = Math.Abs(y[l] - exact) / ulp;
                if (e > worst) { worst = e; at = x; got = y[l]; }
            }
        }
        Assert.True(worst <= 4, $"worst error {worst} ulps at x = {at:R}: {got:R}");
    }

    [Fact]
    public void SinCos_of_two_pi_u_is_accurate_in_every_quadrant()
    {
        double worst = 0;
        var u = new float[8];
        for (uint b = 0; b < 1u << 23; b += 8 * 89)
        {
            for (int l = 0; l < 8; l++) u[l] = PhiloxStream.ToOpenUnitSingle((b + (uint)l * 89) << 9);
            NoiseMath.SinCosTwoPi(Vector256.Create(u), out Vector256<float> sin, out Vector256<float> cos);
            for (int l = 0; l < 8; l++)
            {
                double angle = 2 * Math.PI * u[l];
                worst = Math.Max(worst, Math.Max(Math.Abs(sin[l] - Math.Sin(angle)), Math.Abs(cos[l] - Math.Cos(angle))));
                Assert.Equal(1.0, (double)sin[l] * sin[l] + (double)cos[l] * cos[l], 5e-7);
            }
        }
        Assert.True(worst < 5e-7, $"worst absolute error {worst}");
    }

    [Theory]
    [InlineData("Normal")]
    [InlineData("Gumbel")]
    public void Every_length_gives_finite_reproducible_samples(string name)
    {
        NoiseDistribution noise = name == "Normal" ? NoiseDistribution.Normal : NoiseDistribution.Gumbel;
        for (int n = 1; n <= 40; n++)
        {
            var first = new float[n];
            var second = new float[n];
            var s1 = PhiloxStream.ForSample(5, 2, n, 1);
            var s2 = PhiloxStream.ForSample(5, 2, n, 1);
            noise.Sample(ref s1, first);
            noise.Sample(ref s2, second);
            Assert.Equal(first, second);
            Assert.All(first, z => Assert.True(float.IsFinite(z) && Math.Abs(z) < 20, $"{z} at n = {n}"));
            Assert.True(first.Distinct().Count() == n, $"repeated values at n = {n}");
        }
    }
}
