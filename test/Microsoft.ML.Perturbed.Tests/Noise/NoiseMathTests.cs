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

    [Fact]
    public void Sixteen_lane_overloads_give_the_eight_lane_bits()
    {
        var x = new float[16];
        for (uint b = 0; b < 1u << 23; b += 16 * 61)
        {
            for (int l = 0; l < 16; l++) x[l] = PhiloxStream.ToOpenUnitSingle((b + (uint)l * 61) << 9);
            Vector512<float> wide = Vector512.Create(x);
            Vector512<float> log = NoiseMath.Log(wide), logLog = NoiseMath.Log(-NoiseMath.Log(wide));
            NoiseMath.SinCosTwoPi(wide, out Vector512<float> sin, out Vector512<float> cos);
            for (int half = 0; half < 2; half++)
            {
                Vector256<float> narrow = Vector256.Create(x, 8 * half);
                NoiseMath.SinCosTwoPi(narrow, out Vector256<float> s8, out Vector256<float> c8);
                Vector256<float> l8 = NoiseMath.Log(narrow), ll8 = NoiseMath.Log(-NoiseMath.Log(narrow));
                for (int l = 0; l < 8; l++)
                {
                    Assert.Equal(BitConverter.SingleToInt32Bits(l8[l]), BitConverter.SingleToInt32Bits(log[8 * half + l]));
                    Assert.Equal(BitConverter.SingleToInt32Bits(ll8[l]), BitConverter.SingleToInt32Bits(logLog[8 * half + l]));
                    Assert.Equal(BitConverter.SingleToInt32Bits(s8[l]), BitConverter.SingleToInt32Bits(sin[8 * half + l]));
                    Assert.Equal(BitConverter.SingleToInt32Bits(c8[l]), BitConverter.SingleToInt32Bits(cos[8 * half + l]));
                }
            }
        }
    }

    [Fact]
    public void Samples_of_every_length_equal_the_formula_evaluated_one_lane_at_a_time()
    {
        // Whatever width the sampler runs (16, 8, the padded tail), entry i is Box–Muller of the pair (uᵢ, u_{h+i}), or
        // −ln(−ln uᵢ), evaluated here lane by lane with the eight-lane functions on broadcast inputs.
        static float Lane(Vector256<float> v) => v[0];
        foreach (int n in Enumerable.Range(1, 70).Concat([255, 256, 257, 1000, 1001]))
        {
            var z = new float[n];
            var s = PhiloxStream.ForSample(3, 1, n, 2);
            NoiseDistribution.Normal.Sample(ref s, z);
            var u = new float[n + 1];
            var t = PhiloxStream.ForSample(3, 1, n, 2);
            for (int i = 0; i < u.Length; i++) u[i] = t.NextSingle();
            int half = n / 2;
            for (int i = 0; i < n; i++)
            {
                (float u1, float u2, bool sine) = i < half ? (u[i], u[half + i], false)
                    : i < 2 * half ? (u[i - half], u[i], true)
                    : (u[n - 1], u[n], false);
                float r = Lane(Vector256.Sqrt(NoiseMath.Log(Vector256.Create(u1)) * Vector256.Create(-2f)));
                NoiseMath.SinCosTwoPi(Vector256.Create(u2), out Vector256<float> sin, out Vector256<float> cos);
                float expected = r * (sine ? Lane(sin) : Lane(cos));
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(z[i]), $"normal n = {n}, i = {i}: {z[i]:R} vs {expected:R}");
            }
            var g = new float[n];
            var sg = PhiloxStream.ForSample(3, 1, n, 2);
            NoiseDistribution.Gumbel.Sample(ref sg, g);
            for (int i = 0; i < n; i++)
            {
                float expected = Lane(-NoiseMath.Log(-NoiseMath.Log(Vector256.Create(u[i]))));
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(g[i]), $"Gumbel n = {n}, i = {i}");
            }
        }
    }
}
