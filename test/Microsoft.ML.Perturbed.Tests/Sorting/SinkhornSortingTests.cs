using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Tests.Sorting;

public class SinkhornSortingTests
{
    private static double[] Apply(double[] x, SinkhornOptions options)
    {
        var op = new SinkhornSorting(x.Length, options);
        var y = new double[op.OutputDimension];
        op.Forward(x, y);
        return y;
    }

    private static readonly double[] Row = [0.7, -1.3, 2.2, 0.1, 1.5, -0.4];

    [Fact]
    public void Plan_has_the_requested_marginals()
    {
        var op = new SinkhornSorting(6, new SinkhornOptions { Epsilon = 0.05, Targets = 4, TargetWeights = [0.1, 0.2, 0.3, 0.4], Tolerance = 1e-6 });
        var plan = new double[24];
        int iterations = op.Plan(Row, plan);
        Assert.InRange(iterations, 2, 1000);
        double rowError = 0;
        for (int i = 0; i < 6; i++) rowError += Math.Abs(Enumerable.Range(0, 4).Sum(j => plan[i * 4 + j]) - 1.0 / 6);
        Assert.True(rowError < 1e-6, $"row marginal error {rowError}");
        double[] b = [0.1, 0.2, 0.3, 0.4];
        for (int j = 0; j < 4; j++) Assert.Equal(b[j], Enumerable.Range(0, 6).Sum(i => plan[i * 4 + j]), 10);
    }

    [Fact]
    public void Small_epsilon_gives_hard_ranks_cdf_sort_and_quantile_normalization()
    {
        var options = new SinkhornOptions { Epsilon = 1e-4, Tolerance = 1e-8, MaxIterations = 5000 };
        double[] ranks = Apply(Row, options);
        double[] exact = [4, 1, 6, 3, 5, 2];
        for (int i = 0; i < 6; i++) Assert.Equal(exact[i], ranks[i], 2);
        options.Output = SinkhornOutput.Cdf;
        double[] cdf = Apply(Row, options);
        for (int i = 0; i < 6; i++) Assert.Equal(exact[i] / 6, cdf[i], 3);
        options.Output = SinkhornOutput.Sort;
        double[] sorted = Apply(Row, options);
        double[] expectedSort = Row.OrderBy(v => v).ToArray();
        for (int k = 0; k < 6; k++) Assert.Equal(expectedSort[k], sorted[k], 2);
        options.Output = SinkhornOutput.QuantileNormalize;
        options.TargetValues = [10, 20, 30, 40, 50, 60];
        double[] normalized = Apply(Row, options);
        for (int i = 0; i < 6; i++) Assert.Equal(10 * exact[i], normalized[i], 1);
    }

    [Fact]
    public void Descending_direction_reverses_ranks_and_sort()
    {
        var asc = new SinkhornOptions { Epsilon = 0.02, Tolerance = 1e-12, MaxIterations = 20_000 };
        var desc = new SinkhornOptions { Epsilon = 0.02, Tolerance = 1e-12, MaxIterations = 20_000, Direction = SortDirection.Descending };
        double[] ra = Apply(Row, asc), rd = Apply(Row, desc);
        // With logistic squashing, squash(−z) = 1 − squash(z): the descending plan mirrors the ascending one.
        for (int i = 0; i < 6; i++) Assert.Equal(7 - ra[i], rd[i], 6);
        asc.Output = desc.Output = SinkhornOutput.Sort;
        double[] sa = Apply(Row, asc), sd = Apply(Row, desc);
        for (int k = 0; k < 6; k++) Assert.Equal(sa[k], sd[5 - k], 6);
    }

    [Fact]
    public void Soft_median_of_a_shuffled_range_is_near_the_middle()
    {
        double[] x = Enumerable.Range(0, 101).Select(i => (double)((i * 37) % 101)).ToArray();
        double median = Apply(x, new SinkhornOptions { Output = SinkhornOutput.Quantile, Level = 0.5, QuantileWidth = 0.04, Epsilon = 1e-3, MaxIterations = 5000 })[0];
        Assert.InRange(median, 49, 51);
        double q25 = Apply(x, new SinkhornOptions { Output = SinkhornOutput.Quantile, Level = 0.25, QuantileWidth = 0.04, Epsilon = 1e-3, MaxIterations = 5000 })[0];
        Assert.InRange(q25, 23, 27);
    }

    [Theory]
    [InlineData(SinkhornOutput.Rank, Squashing.Logistic, SortDirection.Ascending)]
    [InlineData(SinkhornOutput.Cdf, Squashing.Arctan, SortDirection.Descending)]
    [InlineData(SinkhornOutput.Sort, Squashing.Logistic, SortDirection.Descending)]
    [InlineData(SinkhornOutput.Sort, Squashing.None, SortDirection.Ascending)]
    [InlineData(SinkhornOutput.Quantile, Squashing.Logistic, SortDirection.Ascending)]
    [InlineData(SinkhornOutput.QuantileNormalize, Squashing.Arctan, SortDirection.Ascending)]
    public void Unrolled_vjp_matches_float64_central_differences(SinkhornOutput output, Squashing squashing, SortDirection direction)
    {
        const int n = 5;
        double[] x = [0.2, 0.9, -0.3, 0.5, 0.45];
        // A fixed number of iterations (tolerance 0) keeps the computed function smooth for finite differences.
        var op = new SinkhornSorting(n, new SinkhornOptions
        {
            Output = output, Squashing = squashing, Direction = direction, Epsilon = 0.05, Tolerance = 0, MaxIterations = 30,
            Targets = output == SinkhornOutput.Sort ? 4 : 0, TargetValues = output == SinkhornOutput.QuantileNormalize ? [-1, 0, 0.5, 2, 3] : null,
            Level = 0.4, QuantileWidth = 0.2,
        });
        int dOut = op.OutputDimension;
        var rng = new System.Random(7);
        double[] g = Enumerable.Range(0, dOut).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var vjp = new double[n];
        op.ForwardVjp(x, g, new double[dOut], vjp);
        const double h = 1e-6;
        for (int k = 0; k < n; k++)
        {
            double[] plus = (double[])x.Clone(), minus = (double[])x.Clone();
            plus[k] += h;
            minus[k] -= h;
            var fp = new double[dOut];
            var fm = new double[dOut];
            op.Forward(plus, fp);
            op.Forward(minus, fm);
            double fd = Enumerable.Range(0, dOut).Sum(i => g[i] * (fp[i] - fm[i]) / (2 * h));
            Assert.True(Math.Abs(fd - vjp[k]) <= 1e-5 * (1 + Math.Abs(fd)), $"{output}: VJP[{k}] = {vjp[k]}, finite differences {fd}");
        }
    }

    [Fact]
    public void Bad_options_and_input_throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SinkhornSorting(3, new SinkhornOptions { Epsilon = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SinkhornSorting(3, new SinkhornOptions { Epsilon = double.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SinkhornSorting(3, new SinkhornOptions { Output = SinkhornOutput.Quantile, Level = 0.01 }));
        Assert.Contains("TargetValues", Assert.Throws<ArgumentException>(() => new SinkhornSorting(3, new SinkhornOptions { Output = SinkhornOutput.QuantileNormalize })).Message);
        Assert.Contains("sorted", Assert.Throws<ArgumentException>(() => new SinkhornSorting(3, new SinkhornOptions { Output = SinkhornOutput.QuantileNormalize, TargetValues = [3, 1, 2] })).Message);
        Assert.Throws<ArgumentException>(() => new SinkhornSorting(3, new SinkhornOptions { TargetWeights = [1, -1, 1] }));
        var op = new SinkhornSorting(3);
        Assert.Contains("row 0, column 1", Assert.Throws<ArgumentException>(() => op.Forward([1f, float.NaN, 2f], new float[3])).Message);
    }

    [Fact]
    public void Constant_rows_stay_finite()
    {
        double[] ranks = Apply([2, 2, 2, 2], new SinkhornOptions());
        Assert.All(ranks, r => Assert.True(double.IsFinite(r)));
        Assert.Equal(10, ranks.Sum(), 3);
    }

    [Theory]
    [InlineData(SinkhornOutput.Rank, 6, 1.0)]
    [InlineData(SinkhornOutput.Rank, 40, 0.01)]
    [InlineData(SinkhornOutput.Cdf, 100, 0.03)]
    [InlineData(SinkhornOutput.Sort, 40, 0.1)]
    [InlineData(SinkhornOutput.Quantile, 70, 0.005)]
    [InlineData(SinkhornOutput.QuantileNormalize, 33, 0.02)]
    [InlineData(SinkhornOutput.Rank, 40, 1e-3)]
    [InlineData(SinkhornOutput.Sort, 12, 1e-4)]
    [InlineData(SinkhornOutput.Rank, 100, 1e-5)]
    [InlineData(SinkhornOutput.Sort, 20, 0.1, Squashing.None, 40.0)]
    [InlineData(SinkhornOutput.Rank, 50, 0.5, Squashing.None, 300.0)]
    public void Iterations_in_the_scalings_equal_the_log_domain_iterations(SinkhornOutput output, int n, double epsilon, Squashing squashing = Squashing.Logistic, double spread = 3)
    {
        // The scalings (two matrix–vector products per iteration, absorbed into the potentials when they leave their
        // window) and the log-domain iterations are one map: outputs and unrolled VJPs agree to rounding, whichever
        // path the window sends each iteration down.
        var options = new SinkhornOptions
        {
            Output = output, Epsilon = epsilon, Tolerance = 0, MaxIterations = 150, MaxDegreeOfParallelism = 1, Squashing = squashing,
            TargetValues = output == SinkhornOutput.QuantileNormalize ? Enumerable.Range(0, n).Select(j => Math.Sqrt(j)).ToArray() : null,
            Targets = output == SinkhornOutput.Sort ? n / 2 + 1 : 0,
        };
        var scalings = new SinkhornSorting(n, options);
        var logDomain = new SinkhornSorting(n, options, p => new LogDomainSinkhornSolver(p));
        var rng = new System.Random(n);
        const int rows = 3;
        double[] x = Enumerable.Range(0, rows * n).Select(_ => spread * (rng.NextDouble() - 0.5)).ToArray();
        double[] g = Enumerable.Range(0, rows * scalings.OutputDimension).Select(_ => rng.NextDouble() - 0.5).ToArray();
        double[] y1 = new double[g.Length], y2 = new double[g.Length], v1 = new double[x.Length], v2 = new double[x.Length];
        scalings.ForwardVjpWithReport<double>(x, g, y1, v1, out SinkhornPathCounts scalingPaths);
        logDomain.ForwardVjpWithReport<double>(x, g, y2, v2, out SinkhornPathCounts logPaths);
        double yScale = y2.Max(Math.Abs), vScale = v2.Max(Math.Abs);
        for (int k = 0; k < y1.Length; k++) Assert.True(Math.Abs(y1[k] - y2[k]) <= 1e-9 * (1 + yScale), $"output {k}: {y1[k]} vs {y2[k]}");
        for (int k = 0; k < x.Length; k++) Assert.True(Math.Abs(v1[k] - v2[k]) <= 1e-7 * (1 + vScale), $"vjp {k}: {v1[k]} vs {v2[k]}");
        Assert.Equal(new SinkhornPathCounts(rows * 150L, rows), logPaths);   // every iteration in the log domain, one final kernel per row
        var (logIterations, absorptions) = scalingPaths;
        if (epsilon >= 0.01 && squashing != Squashing.None)
        {
            Assert.Equal((0L, rows), (logIterations, absorptions));   // one kernel per row, every iteration in the scalings
        }
        else if (epsilon <= 1e-4 || spread > 100)
        {
            Assert.True(logIterations > 0, "small ε takes its first steps in the log domain");
        }
        Assert.True(logIterations < rows * 150L / 2, $"{logIterations} log-domain iterations of {rows * 150}");
    }

    [Theory]
    [InlineData(false, 80)]
    [InlineData(true, 5000)]   // the implicit VJP (rows converge well before the cap)
    public void Long_rows_are_bit_identical_on_any_thread_count(bool implicitVjp, int maxIterations)
    {
        const int n = 130, rows = 12;
        var rng = new System.Random(3);
        float[] x = Enumerable.Range(0, rows * n).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] g = Enumerable.Range(0, rows * n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        float[] Run(int threads, out float[] vjp)
        {
            var op = new SinkhornSorting(n, new SinkhornOptions { Epsilon = 0.01, MaxIterations = maxIterations, ImplicitDifferentiation = implicitVjp, MaxDegreeOfParallelism = threads });
            var y = new float[x.Length];
            vjp = new float[x.Length];
            SinkhornConvergence report = op.ForwardVjpWithReport(x, g, y, vjp);
            Assert.Equal(0, report.ImplicitFallbackRows);   // implicit: every row converged, so every VJP was implicit
            return y;
        }
        float[] y1 = Run(1, out float[] v1), yAll = Run(-1, out float[] vAll);
        Assert.Equal(y1, yAll);
        Assert.Equal(v1, vAll);
    }

    [Fact]
    public void Each_call_reports_its_own_rows_on_any_thread_count_and_concurrently()
    {
        // Unsquashed rows of growing spread: the first converge within the cap, the last stop at it. A call's report is reduced
        // from its rows after they ran, so it equals the rows' own reports combined, whatever the threads and whatever
        // else runs on the same operator at the same time.
        const int n = 24, rows = 16;
        var rng = new System.Random(5);
        double[] x = Enumerable.Range(0, rows * n).Select(k => (1 + k / n) * 0.1 * (rng.NextDouble() - 0.5)).ToArray();
        SinkhornSorting Create(int threads) => new(n, new SinkhornOptions
        {
            Epsilon = 0.01, MaxIterations = 250, Tolerance = 1e-6, Squashing = Squashing.None, MaxDegreeOfParallelism = threads,
        });
        var one = Create(1);
        SinkhornConvergence[] own = Enumerable.Range(0, rows).Select(r => one.ForwardWithReport(x.AsSpan(r * n, n), new double[n])).ToArray();
        SinkhornConvergence Expected(int first, int count) => own.Skip(first).Take(count).Aggregate(default(SinkhornConvergence), (a, b) => a.Combine(b));
        SinkhornConvergence all = Expected(0, rows);
        Assert.InRange(all.CappedRows, 4, rows - 4);
        Assert.Equal(250, all.MostIterations);
        Assert.Equal(all, one.ForwardWithReport(x, new double[x.Length]));
        var shared = Create(-1);
        Assert.Equal(all, shared.ForwardVjpWithReport(x, x, new double[x.Length], new double[x.Length]));
        Parallel.For(0, 4 * rows, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            int first = k % rows, count = rows - first;
            SinkhornConvergence report = shared.ForwardWithReport(x.AsSpan(first * n, count * n), new double[count * n]);
            Assert.Equal(Expected(first, count), report);
        });
        Assert.Equal("theta", Assert.Throws<ArgumentException>(() => shared.ForwardWithReport(new double[n + 1], new double[n])).ParamName);
    }

    [Theory]
    [InlineData(1, 1, 0.05)]
    [InlineData(2, 1, 0.05)]
    [InlineData(5, 1, 0.05)]
    [InlineData(5, 2, 0.05)]
    [InlineData(40, 3, 0.02)]
    [InlineData(6, 4, 1e-3)]
    public void Vjp_after_few_iterations_matches_central_differences(int n, int iterations, double epsilon)
    {
        // The first iterations start from g = 0, which the backward pass reads outside the scaling window (exponentials
        // from the potentials) while later ones go through the kernel: both, and one-value rows, against differences.
        var op = new SinkhornSorting(n, new SinkhornOptions { Epsilon = epsilon, Tolerance = 0, MaxIterations = iterations });
        var rng = new System.Random(n + iterations);
        double[] x = Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        double[] g = Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        TestMath.AssertDoubleVjpMatchesFiniteDifferences(op, x, g, 1e-5);
    }
}
