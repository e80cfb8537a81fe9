using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Tests.Sorting;

public class SoftRankingFamilyTests
{
    public static TheoryData<SoftRankingMethod, double> Methods => new()
    {
        { SoftRankingMethod.PermutahedronL2, 0.01 },
        { SoftRankingMethod.PermutahedronKL, 0.01 },
        { SoftRankingMethod.Sinkhorn, 1e-4 },
        { SoftRankingMethod.Perturbed, 1e-3 },
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_method_gives_hard_ranks_and_sorts_at_small_strength_in_both_directions(SoftRankingMethod method, double eps)
    {
        float[] x = [0.7f, -1.3f, 2.2f, 0.1f, 1.5f, -0.4f];
        foreach (SortDirection dir in Enum.GetValues<SortDirection>())
        {
            var options = new SoftRankingOptions { Method = method, Epsilon = eps, Direction = dir, MaxIterations = 5000, Tolerance = 1e-8 };
            var ranks = new float[6];
            SoftRanking.CreateRank(6, options).Forward(x, ranks);
            float[] ascending = [4, 1, 6, 3, 5, 2];
            for (int i = 0; i < 6; i++) Assert.Equal(dir == SortDirection.Ascending ? ascending[i] : 7 - ascending[i], ranks[i], 1);
            var sorted = new float[6];
            SoftRanking.CreateSort(6, options).Forward(x, sorted);
            float[] expected = dir == SortDirection.Ascending ? x.OrderBy(v => v).ToArray() : x.OrderByDescending(v => v).ToArray();
            for (int k = 0; k < 6; k++) Assert.Equal(expected[k], sorted[k], 1);
        }
    }

    [Theory]
    [InlineData(SortDirection.Ascending)]
    [InlineData(SortDirection.Descending)]
    public void Perturbed_rank_vjp_is_adjoint_to_its_jvp_and_flips_sign_with_direction(SortDirection dir)
    {
        float[] x = [0.3f, 0.5f, 0.1f, 0.45f];
        float[] g = [1, -1, 0.5f, 0];
        var op = (PerturbedSorting)SoftRanking.CreateRank(4, new SoftRankingOptions { Method = SoftRankingMethod.Perturbed, Epsilon = 0.2, Samples = 20_000, Direction = dir });
        var vjp = new float[4];
        op.ForwardVjp(x, g, new float[4], vjp);
        // Against the permutahedron soft rank's VJP direction: both smooth ranks increase with θ ascending.
        var l2 = new float[4];
        new SoftRank(4, 0.2, direction: dir).ForwardVjp(x, g, new float[4], l2);
        Assert.True(TestMath.Dot(vjp, l2) > 0, "perturbed and projection gradients should point the same way");
        Assert.All(vjp, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Unknown_method_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SoftRanking.CreateRank(3, new SoftRankingOptions { Method = (SoftRankingMethod)9 }));
    }

    [Fact]
    public void Quantile_normalization_from_the_factory_is_the_permutahedron_operator_and_refuses_the_other_methods()
    {
        double[] targets = [10, 20, 30, 40];
        float[] x = [0.3f, -2f, 5f, 1f];
        var hard = new float[4];
        SoftRanking.CreateQuantileNormalization(targets, new SoftRankingOptions { Epsilon = 0 }).Forward(x, hard);
        Assert.Equal([20f, 10f, 40f, 30f], hard);   // each value replaced by the target of its rank
        RowOperator soft = SoftRanking.CreateQuantileNormalization(targets, new SoftRankingOptions { Epsilon = 0.5, Method = SoftRankingMethod.PermutahedronKL });
        double[] theta = [0.3, -2, 5, 1], tangent = [1, -0.5, 0.25, 2];
        var y = new double[4];
        var jvp = new double[4];
        soft.ForwardJvp(theta, tangent, y, jvp);   // the double path with its JVP, through the public base
        Assert.True(y[2] > y[3] && y[3] > y[0] && y[0] > y[1], "the order of the row is kept");
        const double h = 1e-6;
        double[] plus = new double[4], minus = new double[4];
        soft.Forward(theta.Select((v, i) => v + h * tangent[i]).ToArray(), plus);
        soft.Forward(theta.Select((v, i) => v - h * tangent[i]).ToArray(), minus);
        for (int i = 0; i < 4; i++) Assert.Equal((plus[i] - minus[i]) / (2 * h), jvp[i], 6);
        foreach (SoftRankingMethod other in new[] { SoftRankingMethod.Sinkhorn, SoftRankingMethod.Perturbed })
        {
            Assert.Contains(other.ToString(), Assert.Throws<NotSupportedException>(() =>
                SoftRanking.CreateQuantileNormalization(targets, new SoftRankingOptions { Method = other, Epsilon = 0.1 })).Message);
        }
        Assert.Equal("Epsilon", Assert.ThrowsAny<ArgumentException>(() =>
            SoftRanking.CreateQuantileNormalization(targets, new SoftRankingOptions { Epsilon = -1 })).ParamName);
    }

    [Fact]
    public void A_sinkhorn_operator_refuses_the_double_jvp_it_does_not_have()
    {
        var sinkhorn = (RowOperator)SoftRanking.CreateRank(4, new SoftRankingOptions { Method = SoftRankingMethod.Sinkhorn, Epsilon = 0.1 });
        Assert.False(sinkhorn.HasJvp);
        Assert.Throws<NotSupportedException>(() => sinkhorn.ForwardJvp(new double[4], new double[4], new double[4], new double[4]));
    }
}
