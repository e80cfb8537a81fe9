using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Tests.Sorting;

public class QuantileNormalizationTests
{
    [Fact]
    public void Hard_quantile_normalization_puts_the_target_quantiles_in_the_input_order()
    {
        double[] targets = [-1, 0, 2, 5, 9];
        double[] x = [0.3, -7, 12, 0.31, 1];
        var y = new double[5];
        new SoftQuantileNormalization(targets).Forward(x, y);
        Assert.Equal(new double[] { 0, -1, 9, 2, 5 }, y);
        // Ties share the mean of their targets; descending maps the largest value to the smallest target.
        new SoftQuantileNormalization(targets).Forward([1, 1, 3, 0, 3], y);
        Assert.Equal(new double[] { 1, 1, 7, -1, 7 }, y);
        new SoftQuantileNormalization(targets, direction: SortDirection.Descending).Forward(x, y);
        Assert.Equal(new double[] { 5, 9, -1, 2, 0 }, y);
    }

    [Theory]
    [InlineData((int)SoftRegularization.L2)]
    [InlineData((int)SoftRegularization.KL)]
    public void Soft_quantile_normalization_keeps_order_tends_to_hard_and_has_exact_gradients(int regValue)
    {
        var reg = (SoftRegularization)regValue;   // xUnit theories are public; the enum is internal
        double[] targets = QuantileTargets.Uniform(6).Select(v => v * 10).ToArray();
        double[] x = [0.4, 2.2, -1, 0.9, 3.1, 1.5];
        var hard = new double[6];
        new SoftQuantileNormalization(targets).Forward(x, hard);
        var nearlyHard = new double[6];
        new SoftQuantileNormalization(targets, 1e-3, reg).Forward(x, nearlyHard);
        for (int i = 0; i < 6; i++) Assert.Equal(hard[i], nearlyHard[i], 5);

        var op = new SoftQuantileNormalization(targets, 0.5, reg);
        var soft = new double[6];
        op.Forward(x, soft);
        if (reg == SoftRegularization.L2) Assert.Equal(targets.Sum(), soft.Sum(), 9);
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
                if (x[i] < x[j]) Assert.True(soft[i] <= soft[j] + 1e-12);

        double[] g = [0.3, -1, 0.2, 0.5, -0.4, 0.1];
        var vjp = new double[6];
        op.ForwardVjp(x, g, new double[6], vjp);
        const double h = 1e-6;
        for (int k = 0; k < 6; k++)
        {
            double[] plus = (double[])x.Clone(), minus = (double[])x.Clone();
            plus[k] += h;
            minus[k] -= h;
            var fp = new double[6];
            var fm = new double[6];
            op.Forward(plus, fp);
            op.Forward(minus, fm);
            double fd = Enumerable.Range(0, 6).Sum(i => g[i] * (fp[i] - fm[i]) / (2 * h));
            Assert.Equal(fd, vjp[k], 6);
        }
    }

    [Fact]
    public void Soft_rank_is_quantile_normalization_to_one_through_n()
    {
        double[] x = [0.5, -0.2, 1.7, 0.6];
        var r = new double[4];
        var q = new double[4];
        foreach (SoftRegularization reg in Enum.GetValues<SoftRegularization>())
        {
            new SoftRank(4, 0.7, reg).Forward(x, r);
            new SoftQuantileNormalization([1, 2, 3, 4], 0.7, reg).Forward(x, q);
            Assert.Equal(r, q);
        }
    }

    [Fact]
    public void Targets_uniform_normal_and_learned_from_data()
    {
        Assert.Equal(new[] { 0.125, 0.375, 0.625, 0.875 }, QuantileTargets.Uniform(4));
        double[] normal = QuantileTargets.Normal(4);
        Assert.Equal(-1.1503493803760083, normal[0], 12);   // Φ⁻¹(1/8)
        Assert.Equal(-normal[0], normal[3], 12);
        float[] rows = [3, 1, 2, /**/ 10, 30, 20];
        Assert.Equal(new double[] { 5.5, 11, 16.5 }, QuantileTargets.FromData(rows, 3));
        Assert.Contains("row 1", Assert.Throws<ArgumentException>(() => QuantileTargets.FromData([1, 2, 3, 4, float.NaN, 6], 3)).Message);
        Assert.Throws<ArgumentException>(() => QuantileTargets.FromData([], 3));
        Assert.Throws<ArgumentException>(() => new SoftQuantileNormalization([1, 0, 2], 1, SoftRegularization.KL));
    }
}
