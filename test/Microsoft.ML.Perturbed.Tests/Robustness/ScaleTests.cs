using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Tests.Robustness;

/// <summary>The cases of the robustness issue: each gives the right answer (the exact limit where it applies) or a clear error.</summary>
public class ScaleTests
{
    private static float[] Run(ISoftOperator op, float[] x)
    {
        var y = new float[x.Length];
        op.Forward(x, y);
        return y;
    }

    [Theory]
    [InlineData(SoftRegularization.L2)]
    [InlineData(SoftRegularization.KL)]
    public void Huge_scores_give_the_hard_ranks(SoftRegularization reg)
    {
        Assert.Equal([4f, 1f, 3f, 2f], Run(new SoftRank(4, 0.5, reg), [1e30f, -1e30f, 5e29f, 0f]));
        Assert.Equal([2.5f, 2.5f, 2.5f, 2.5f], Run(new SoftRank(4, 0.5, reg), [1e38f, 1e38f, 1e38f, 1e38f]));
        Assert.Equal([1f, 4f, 2.5f, 2.5f], Run(new SoftRank(4, 1e-3, reg), [-float.MaxValue, float.MaxValue, 3e38f, 3e38f]));
        // The VJP of ranks at the hard limit is zero, finite.
        var vjp = new float[4];
        new SoftRank(4, 0.5, reg).ForwardVjp([1e30f, -1e30f, 5e29f, 0f], [1, 2, 3, 4], new float[4], vjp);
        Assert.All(vjp, v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(SortDirection.Ascending)]
    [InlineData(SortDirection.Descending)]
    public void Huge_scores_keep_the_sort_invariants(SortDirection direction)
    {
        // Gaps ≫ 1/ε: the soft sort is close to its "ε → ∞" form, mean θ + (k − (n+1)/2)/ε for L2 and the constant
        // LSE(sign θ) − log n for KL; the invariants Σ out = Σ θ (L2) and LSE(sign·out) = LSE(sign·θ) (KL) must hold.
        double sign = direction == SortDirection.Ascending ? -1 : 1;
        foreach (float[] x in new[] { new[] { 1e30f, -1e30f, 5e29f, 0f }, [float.MaxValue, 3e38f, 3e38f, -float.MaxValue], [1e38f, 1e38f, 1e38f, 1e38f] })
        {
            float[] l2 = Run(new SoftSort(4, 0.5, SoftRegularization.L2, direction), x);
            Assert.Equal(x.Sum(v => (double)v), l2.Sum(v => (double)v), 1e-6 * x.Max(v => Math.Abs((double)v)));
            float[] kl = Run(new SoftSort(4, 0.5, SoftRegularization.KL, direction), x);
            double Lse(float[] v) { double m = v.Max(t => sign * t); return m + Math.Log(v.Sum(t => Math.Exp(sign * t - m))); }
            Assert.Equal(Lse(x), Lse(kl), 1e-6 * Math.Abs(Lse(x)));
            for (int k = 0; k + 1 < 4; k++)
            {
                Assert.True(sign < 0 ? l2[k] <= l2[k + 1] : l2[k] >= l2[k + 1]);
                Assert.True(sign < 0 ? kl[k] <= kl[k + 1] : kl[k] >= kl[k + 1]);
            }
        }
    }

    [Theory]
    [InlineData(1e-300)]
    [InlineData(double.Epsilon)]
    [InlineData(1e-40)]
    public void Tiny_epsilon_gives_the_hard_limit(double epsilon)
    {
        float[] x = [0.3f, -2f, 0.3f, 5f];
        foreach (SoftRegularization reg in new[] { SoftRegularization.L2, SoftRegularization.KL })
        {
            Assert.Equal([2.5f, 1f, 2.5f, 4f], Run(new SoftRank(4, epsilon, reg), x));
            Assert.Equal([-2f, 0.3f, 0.3f, 5f], Run(new SoftSort(4, epsilon, reg), x));
            var vjp = new float[4];
            new SoftSort(4, epsilon, reg).ForwardVjp(x, [1, 2, 3, 4], new float[4], vjp);
            Assert.All(vjp, v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void A_derivative_that_single_precision_cannot_hold_is_refused_by_name()
    {
        // Tied inputs at ε = 1e-200: the soft-rank Jacobian is of order 1/ε — right in double, refused in float.
        var rank = new SoftRank(2, 1e-200);
        var vjp = new double[2];
        rank.ForwardVjp([1.0, 1.0], [1.0, 0.0], new double[2], vjp);
        Assert.True(Math.Abs(vjp[0]) > 1e199);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => rank.ForwardVjp([1f, 1f], [1f, 0f], new float[2], new float[2]));
        Assert.Equal("vjp", e.ParamName);
        Assert.Contains("row 0", e.Message);
    }
}
