using Microsoft.ML.Perturbed.Numerics;

namespace Microsoft.ML.Perturbed.Tests.Numerics;

public class SpanMathTests
{
    private static float[] Floats(int n, int seed)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * (float)Math.Pow(10, rng.Next(-3, 4))).ToArray();
    }

    private static double[] Doubles(int n, int seed) => Floats(n, seed).Select(v => (double)v * (1 + 1e-9 * v)).ToArray();

    [Theory]
    [InlineData(1)] [InlineData(7)] [InlineData(8)] [InlineData(17)] [InlineData(64)] [InlineData(100)] [InlineData(513)]
    public void Four_dot_products_at_once_are_the_single_ones_bit_for_bit(int n)
    {
        float[] w = Floats(6 * n, n), x = Floats(n, n + 1);
        var four = new double[4];
        for (int row = 0; row + 4 <= 6; row++)
        {
            SpanMath.Dot4(w, row, x, four);
            for (int q = 0; q < 4; q++) Assert.Equal(SpanMath.Dot(w.AsSpan((row + q) * n, n), x), four[q]);
        }
    }

    [Theory]
    [InlineData(3)] [InlineData(16)] [InlineData(37)] [InlineData(512)]
    public void Rounded_scaled_add_is_the_scalar_loop_bit_for_bit(int n)
    {
        float[] x = Floats(n, 2), acc = Floats(n, 3), expected = (float[])acc.Clone();
        const double a = -0.3712345678901;
        for (int i = 0; i < n; i++) expected[i] += (float)(a * x[i]);
        SpanMath.AddScaledRounded(acc, x, a);
        Assert.Equal(expected, acc);
    }

    [Theory]
    [InlineData(5)] [InlineData(33)] [InlineData(300)] [InlineData(1001)]
    public void Double_reductions_are_accurate_and_do_not_depend_on_alignment(int n)
    {
        double[] x = Doubles(n, 4), y = Doubles(n, 5);
        double dot = (double)x.Zip(y, (a, b) => (decimal)a * (decimal)b).Aggregate(0m, (s, v) => s + v);   // exact enough as a reference
        double sum = (double)x.Aggregate(0m, (s, v) => s + (decimal)v);
        double scale = x.Zip(y, (a, b) => Math.Abs(a * b)).Sum();
        Assert.True(Math.Abs(SpanMath.Dot(x, y) - dot) <= 1e-14 * scale, $"dot {SpanMath.Dot(x, y)} vs {dot}");
        Assert.True(Math.Abs(SpanMath.Sum(x) - sum) <= 1e-14 * x.Sum(Math.Abs), $"sum {SpanMath.Sum(x)} vs {sum}");
        var bx = new double[n + 8];
        var by = new double[n + 8];
        for (int offset = 0; offset < 8; offset++)
        {
            x.CopyTo(bx, offset);
            y.CopyTo(by, 7 - offset);
            Assert.Equal(SpanMath.Dot(x, y), SpanMath.Dot(bx.AsSpan(offset, n), by.AsSpan(7 - offset, n)));
            Assert.Equal(SpanMath.Sum(x), SpanMath.Sum(bx.AsSpan(offset, n)));
        }
    }

    [Fact]
    public void Vector_exponential_is_within_two_ulp_of_math_exp()
    {
        var rng = new System.Random(6);
        double[] x = Enumerable.Range(0, 4099).Select(i => i % 3 == 0 ? rng.NextDouble() * 2 - 1 : rng.NextDouble() * 1450 - 740)
            .Concat([0, -0.0, 1, -1, 709.7, -745.2, -800, -1e300, 1e-300]).ToArray();
        var e = new double[x.Length];
        SpanMath.Exp(x, e);
        for (int i = 0; i < x.Length; i++)
        {
            double exact = Math.Exp(x[i]);
            double ulp = Math.Max(Math.BitIncrement(exact) - exact, double.Epsilon);
            Assert.True(Math.Abs(e[i] - exact) <= 2 * ulp, $"exp({x[i]:R}) = {e[i]:R}, Math.Exp {exact:R}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(100)]
    [InlineData(1000)]
    public void Fused_kernels_equal_the_plain_loops_bit_for_bit_and_flag_every_non_finite_entry(int n)
    {
        var rng = new System.Random(n);
        foreach (double density in new[] { 0.0, 0.01, 0.3, 1.0 })
        {
            float[] x = Enumerable.Range(0, n).Select(_ => rng.NextDouble() < density ? (float)(rng.NextDouble() * 4 - 2) : rng.Next(2) == 0 ? 0f : -0f).ToArray();
            double[] start = Enumerable.Range(0, n).Select(_ => rng.NextDouble()).ToArray();
            double[] expected = (double[])start.Clone(), actual = (double[])start.Clone();
            for (int i = 0; i < n; i++) expected[i] += x[i];
            Assert.True(PerturbationKernels.AddAllFinite(actual, x));
            Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), actual.Select(BitConverter.DoubleToInt64Bits));

            float[] z = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
            var u = new float[n];
            Assert.True(PerturbationKernels.MultiplyAddAllFinite(z, 0.37f, x, u));
            for (int i = 0; i < n; i++) Assert.Equal(BitConverter.SingleToInt32Bits(z[i] * 0.37f + x[i]), BitConverter.SingleToInt32Bits(u[i]));
        }
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            for (int at = 0; at < n; at += Math.Max(1, n / 7))
            {
                var x = new float[n];
                x[at] = bad;
                Assert.False(PerturbationKernels.AddAllFinite(new double[n], x), $"{bad} at {at}");
                var theta = new float[n];
                theta[at] = bad;
                Assert.False(PerturbationKernels.MultiplyAddAllFinite(new float[n], 1f, theta, new float[n]), $"{bad} at {at}");
            }
        }
        // Finite inputs whose perturbation overflows.
        var big = Enumerable.Repeat(float.MaxValue, n).ToArray();
        Assert.False(PerturbationKernels.MultiplyAddAllFinite(big, 2f, big, new float[n]));
    }
}
