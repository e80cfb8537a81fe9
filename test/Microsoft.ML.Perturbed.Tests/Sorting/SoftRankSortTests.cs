using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Tests.Sorting;

public class SoftRankSortTests
{
    private static double[] Rank(double[] x, double eps, SoftRegularization reg = SoftRegularization.L2, SortDirection dir = SortDirection.Ascending)
    {
        var r = new double[x.Length];
        new SoftRank(x.Length, eps, reg, dir).Forward(x, r);
        return r;
    }

    private static double[] Sort(double[] x, double eps, SoftRegularization reg = SoftRegularization.L2, SortDirection dir = SortDirection.Ascending)
    {
        var r = new double[x.Length];
        new SoftSort(x.Length, eps, reg, dir).Forward(x, r);
        return r;
    }

    private static void Close(double[] expected, double[] actual, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"index {i}: expected {expected[i]}, got {actual[i]}");
    }

    public static TheoryData<int, SortDirection> Variants()
    {
        var d = new TheoryData<int, SortDirection>();
        foreach (SoftRegularization r in Enum.GetValues<SoftRegularization>())
            foreach (SortDirection s in Enum.GetValues<SortDirection>())
                d.Add((int)r, s);
        return d;
    }

    [Fact]
    public void Published_fixed_examples()
    {
        Close([1.6667, 2.6667, 3.6667], Sort([5, 1, 2], 1), 1e-4);
        Close([1, 2, 5], Sort([5, 1, 2], 0.1), 1e-12);
        Close([3, 1.25, 1.75], Rank([5, 1, 2], 2), 1e-12);
        Close([3, 1, 2], Rank([5, 1, 2], 1), 1e-12);
        Close(Enumerable.Range(0, 9).Select(k => 0.5556 + k).ToArray(), Sort([8, 0, 5, 3, 2, 1, 6, 7, 9], 1), 1e-4);
        Close([3.875, 1, 4.875, 5.875, 3.375, 2], Rank([1, -2, 2, 3, 0.5, -1], 1), 1e-12);
    }

    [Fact]
    public void First_sorted_value_of_the_nine_example_has_gradient_one_ninth_everywhere()
    {
        double[] x = [8, 0, 5, 3, 2, 1, 6, 7, 9];
        var g = new double[9];
        g[0] = 1;
        var vjp = new double[9];
        new SoftSort(9, 1).ForwardVjp(x, g, new double[9], vjp);
        Close(Enumerable.Repeat(1.0 / 9, 9).ToArray(), vjp, 1e-12);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Ranks_sum_to_n_n_plus_1_over_2_and_sort_preserves_its_invariant(int regValue, SortDirection dir)
    {
        var reg = (SoftRegularization)regValue;   // xUnit theories are public; the enum is internal
        var rng = new System.Random(1);
        foreach (double eps in new[] { 1e-3, 0.1, 1, 10, 1e4 })
        {
            double[] x = Enumerable.Range(0, 20).Select(_ => rng.NextDouble() * 10 - 5).ToArray();
            Assert.Equal(20 * 21 / 2.0, Rank(x, eps, reg, dir).Sum(), 8);
            double[] sorted = Sort(x, eps, reg, dir);
            if (reg == SoftRegularization.L2)
            {
                Assert.Equal(x.Sum(), sorted.Sum(), 8);
            }
            else
            {
                double sign = dir == SortDirection.Ascending ? -1 : 1;
                Assert.Equal(x.Sum(v => Math.Exp(sign * v)), sorted.Sum(v => Math.Exp(sign * v)), 6);
            }
            // Order preserved: the output is sorted in the requested direction, ranks follow the inputs.
            for (int k = 1; k < sorted.Length; k++)
                Assert.True(dir == SortDirection.Ascending ? sorted[k] >= sorted[k - 1] - 1e-12 : sorted[k] <= sorted[k - 1] + 1e-12);
            double[] r = Rank(x, eps, reg, dir);
            for (int i = 0; i < x.Length; i++)
                for (int j = 0; j < x.Length; j++)
                    if (x[i] < x[j]) Assert.True(dir == SortDirection.Ascending ? r[i] <= r[j] + 1e-12 : r[i] >= r[j] - 1e-12);
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Small_epsilon_gives_exact_ranks_and_sort_once_gaps_allow(int regValue, SortDirection dir)
    {
        var reg = (SoftRegularization)regValue;   // xUnit theories are public; the enum is internal
        double[] x = [0.3, -1.2, 2.5, 0.9, 1.4];       // consecutive gaps ≥ 0.5
        double[] exactRanks = dir == SortDirection.Ascending ? [2, 1, 5, 3, 4] : [4, 5, 1, 3, 2];
        double[] exactSort = dir == SortDirection.Ascending ? [-1.2, 0.3, 0.9, 1.4, 2.5] : [2.5, 1.4, 0.9, 0.3, -1.2];
        double tol = reg == SoftRegularization.L2 ? 1e-12 : 1e-6;
        Close(exactRanks, Rank(x, 0.01, reg, dir), tol);   // L2: exact once gaps ≥ ε
        Close(exactSort, Sort(x, 0.01, reg, dir), tol);    // L2: exact once gaps ≥ ... ε ≤ 1/gap
        Close(exactRanks, Rank(x, 0, reg, dir), 0);
        Close(exactSort, Sort(x, 0, reg, dir), 0);
    }

    [Theory]
    [InlineData(SortDirection.Ascending)]
    [InlineData(SortDirection.Descending)]
    public void Large_epsilon_gives_the_first_order_expansions_around_the_mean(SortDirection dir)
    {
        double[] x = [0.3, -1.2, 2.5, 0.9, 1.4];
        const double eps = 1e4;
        int n = x.Length;
        double mean = x.Average();
        double sign = dir == SortDirection.Ascending ? 1 : -1;
        // rank_i = (n+1)/2 + sign·(θᵢ − mean θ)/ε; sort_k = mean θ + (k − (n+1)/2)/ε (ascending, k = 1..n).
        Close(x.Select(v => (n + 1) / 2.0 + sign * (v - mean) / eps).ToArray(), Rank(x, eps, dir: dir), 1e-10);
        double[] expectedSort = Enumerable.Range(1, n).Select(k => mean + sign * (k - (n + 1) / 2.0) / eps).ToArray();
        Close(expectedSort, Sort(x, eps, dir: dir), 1e-10);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Permutation_and_shift_equivariance(int regValue, SortDirection dir)
    {
        var reg = (SoftRegularization)regValue;   // xUnit theories are public; the enum is internal
        var rng = new System.Random(2);
        double[] x = Enumerable.Range(0, 12).Select(_ => rng.NextDouble() * 4).ToArray();
        int[] perm = Enumerable.Range(0, 12).OrderBy(_ => rng.Next()).ToArray();
        double[] px = perm.Select(i => x[i]).ToArray();
        double[] r = Rank(x, 0.5, reg, dir), pr = Rank(px, 0.5, reg, dir);
        Close(perm.Select(i => r[i]).ToArray(), pr, 1e-9);           // rank(Pθ) = P rank(θ)
        Close(Sort(x, 0.5, reg, dir), Sort(px, 0.5, reg, dir), 1e-9); // sort(Pθ) = sort(θ)
        double[] shifted = x.Select(v => v + 3.7).ToArray();
        Close(r, Rank(shifted, 0.5, reg, dir), 1e-9);                 // ranks unchanged by a shift
        Close(Sort(x, 0.5, reg, dir).Select(v => v + 3.7).ToArray(), Sort(shifted, 0.5, reg, dir), 1e-9);
    }

    [Fact]
    public void L2_descending_ranks_are_n_plus_1_minus_ascending()
    {
        double[] x = [0.4, 2, -1, 0.7, 0.71, 3];
        double[] asc = Rank(x, 0.8), desc = Rank(x, 0.8, dir: SortDirection.Descending);
        Close(asc.Select(v => 7 - v).ToArray(), desc, 1e-12);
    }

    [Fact]
    public void Ties_get_equal_ranks_and_average_ranks_in_the_limit()
    {
        Close([1.5, 2.5, 2.5, 3.5], Rank([1, 2, 2, 3], 1), 1e-12);
        Close([1, 2.5, 2.5, 4], Rank([1, 2, 2, 3], 1e-3), 1e-12);
        Close([1, 2.5, 2.5, 4], Rank([1, 2, 2, 3], 0), 0);
        Close([1, 2.5, 2.5, 4], Rank([3, 2, 2, 1], 0, dir: SortDirection.Descending), 0);
    }

    private static double[,] Jacobian(PermutahedronProjection op, double[] x)
    {
        int n = x.Length;
        var j = new double[n, n];
        var col = new double[n];
        for (int c = 0; c < n; c++)
        {
            var t = new double[n];
            t[c] = 1;
            op.ForwardJvp(x, t, new double[n], col);
            for (int r = 0; r < n; r++) j[r, c] = col[r];
        }
        return j;
    }

    [Fact]
    public void L2_rank_jacobian_is_symmetric_with_zero_row_sums_and_L2_sort_jacobian_is_doubly_stochastic()
    {
        var rng = new System.Random(3);
        double[] x = Enumerable.Range(0, 8).Select(_ => rng.NextDouble() * 3).ToArray();
        double[,] jr = Jacobian(new SoftRank(8, 1), x), js = Jacobian(new SoftSort(8, 1), x);
        for (int i = 0; i < 8; i++)
        {
            double rowR = 0, colR = 0, rowS = 0, colS = 0;
            for (int j = 0; j < 8; j++)
            {
                Assert.Equal(jr[i, j], jr[j, i], 12);
                Assert.True(js[i, j] >= 0);
                rowR += jr[i, j]; colR += jr[j, i]; rowS += js[i, j]; colS += js[j, i];
            }
            Assert.Equal(0, rowR, 12);
            Assert.Equal(0, colR, 12);
            Assert.Equal(1, rowS, 12);
            Assert.Equal(1, colS, 12);
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Vjp_and_jvp_match_float64_central_differences(int regValue, SortDirection dir)
    {
        var reg = (SoftRegularization)regValue;   // xUnit theories are public; the enum is internal
        var rng = new System.Random(4);
        const int n = 7;
        foreach (double eps in new[] { 0.3, 1.0, 4.0 })
        {
            double[] x = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
            double[] g = Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
            foreach (PermutahedronProjection op in new PermutahedronProjection[] { new SoftRank(n, eps, reg, dir), new SoftSort(n, eps, reg, dir) })
            {
                var vjp = new double[n];
                op.ForwardVjp(x, g, new double[n], vjp);
                double[,] jac = Jacobian(op, x);
                const double h = 1e-6;
                for (int j = 0; j < n; j++)
                {
                    double[] plus = (double[])x.Clone(), minus = (double[])x.Clone();
                    plus[j] += h;
                    minus[j] -= h;
                    var fp = new double[n];
                    var fm = new double[n];
                    op.Forward(plus, fp);
                    op.Forward(minus, fm);
                    double fdVjp = 0;
                    for (int i = 0; i < n; i++)
                    {
                        double fd = (fp[i] - fm[i]) / (2 * h);
                        Assert.True(Math.Abs(fd - jac[i, j]) < 1e-6 * (1 + Math.Abs(fd)), $"{op.GetType().Name} {reg} {dir} ε={eps}: J[{i},{j}] = {jac[i, j]}, FD {fd}");
                        fdVjp += g[i] * fd;
                    }
                    Assert.True(Math.Abs(fdVjp - vjp[j]) < 1e-6 * (1 + Math.Abs(fdVjp)), $"{op.GetType().Name} {reg} {dir} ε={eps}: VJP[{j}] = {vjp[j]}, FD {fdVjp}");
                }
            }
        }
    }

    [Fact]
    public void Single_precision_batches_match_double_precision_rows_and_threads_do_not_matter()
    {
        var rng = new System.Random(5);
        const int n = 50, batch = 40;
        float[] x = TestMath.RandomVector(rng, n * batch, 3);
        foreach (SoftRegularization reg in Enum.GetValues<SoftRegularization>())
        {
            var many = new SoftRank(n, 0.2, reg);
            var one = new SoftRank(n, 0.2, reg) { MaxDegreeOfParallelism = 1 };
            var a = new float[n * batch];
            var b = new float[n * batch];
            many.Forward(x, a);
            one.Forward(x, b);
            Assert.Equal(a, b);
            var row = new double[n];
            many.Forward(x.AsSpan(n * 7, n).ToArray().Select(v => (double)v).ToArray(), row);
            for (int i = 0; i < n; i++) Assert.Equal((float)row[i], a[n * 7 + i]);
        }
    }

    [Fact]
    public void Bad_input_throws_argument_exceptions()
    {
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => new SoftRank(3, -1)).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => new SoftSort(3, double.NaN)).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => new SoftSort(3, double.PositiveInfinity)).ParamName);
        var rank = new SoftRank(3, 1);
        Assert.Contains("row 1, column 0", Assert.Throws<ArgumentException>(() => rank.Forward([1f, 2, 3, float.NaN, 0, 0], new float[6])).Message);
        Assert.Equal("theta", Assert.Throws<ArgumentException>(() => rank.Forward(new float[4], new float[4])).ParamName);
        Assert.Equal("solution", Assert.Throws<ArgumentException>(() => rank.Forward(new float[3], new float[4])).ParamName);
        Assert.Equal("cotangent", Assert.Throws<ArgumentException>(() => rank.ForwardVjp(new float[3], new float[2], new float[3], new float[3])).ParamName);
        // A strength so small that θ/ε overflows is reported, never turned into NaN.
        // θ/ε beyond double's range: the row is at its ε → 0 limit, which is returned exactly (the robustness issue).
        var ranks = new double[3];
        new SoftRank(3, 1e-310).Forward([1e10, 2, 3], ranks);
        Assert.Equal([3.0, 1, 2], ranks);
        var sorted = new double[3];
        new SoftSort(3, 1e-310).Forward([1, 3, 2], sorted);
        Assert.Equal([1.0, 2, 3], sorted);
        // Not at its limit (gaps of order ε): refused with a clear message.
        Assert.Contains("too small", Assert.Throws<ArgumentOutOfRangeException>(() => new SoftRank(2, 1e-310).Forward([1e-309, 0], new double[2])).Message);
    }

    [Theory]
    [InlineData(1e-8)]
    [InlineData(1e8)]
    public void Extreme_strengths_stay_finite(double eps)
    {
        float[] x = [1e3f, -1e3f, 0.5f, 0.5f, 7f];
        foreach (SoftRegularization reg in Enum.GetValues<SoftRegularization>())
        {
            var r = new float[5];
            var s = new float[5];
            var g = new float[5];
            new SoftRank(5, eps, reg).ForwardVjp(x, [1, 0, 0, 0, -1], r, g);
            new SoftSort(5, eps, reg).Forward(x, s);
            Assert.All(r.Concat(s).Concat(g), v => Assert.True(float.IsFinite(v)));
        }
    }
}
