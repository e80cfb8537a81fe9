using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Tests.Sorting;

/// <summary>
/// The implicit VJP of <see cref="SinkhornSorting"/> (<see cref="SinkhornOptions.ImplicitDifferentiation"/>): equal to the
/// unrolled VJP at convergence, to finite differences of the converged operator, unrolled (and counted) where a row
/// stopped at the cap, and the Schur solve itself on plans whose target graph falls apart.
/// </summary>
public class SinkhornImplicitDifferentiationTests
{
    private static SinkhornOptions Options(SinkhornOutput output, int n, int m, double epsilon, bool implicitVjp,
        SortDirection direction = SortDirection.Ascending, Squashing squashing = Squashing.Logistic, double tolerance = 1e-13) => new()
    {
        Output = output, Epsilon = epsilon, Targets = output == SinkhornOutput.Quantile ? 0 : m, Direction = direction, Squashing = squashing,
        TargetValues = output == SinkhornOutput.QuantileNormalize ? Enumerable.Range(0, m).Select(j => 1.5 * j - Math.Sqrt(j)).ToArray() : null,
        TargetWeights = output == SinkhornOutput.Quantile ? null : Enumerable.Range(0, m).Select(j => 1.0 + (j % 3)).ToArray(),
        Level = 0.4, QuantileWidth = 0.1, Tolerance = tolerance, MaxIterations = 200_000, ImplicitDifferentiation = implicitVjp,
    };

    private static double[] Random(System.Random rng, int length, double spread) =>
        Enumerable.Range(0, length).Select(_ => spread * (rng.NextDouble() - 0.5)).ToArray();

    [Theory]
    [InlineData(SinkhornOutput.Rank, 7, 4, 0.05, SortDirection.Ascending, Squashing.Logistic)]
    [InlineData(SinkhornOutput.Rank, 5, 9, 0.01, SortDirection.Descending, Squashing.Arctan)]
    [InlineData(SinkhornOutput.Rank, 30, 30, 0.01, SortDirection.Ascending, Squashing.Logistic)]
    [InlineData(SinkhornOutput.Cdf, 40, 6, 0.02, SortDirection.Descending, Squashing.Logistic)]
    [InlineData(SinkhornOutput.Cdf, 4, 11, 0.3, SortDirection.Ascending, Squashing.None)]
    [InlineData(SinkhornOutput.Sort, 9, 5, 0.01, SortDirection.Descending, Squashing.Logistic)]
    [InlineData(SinkhornOutput.Sort, 6, 13, 0.05, SortDirection.Ascending, Squashing.Arctan)]
    [InlineData(SinkhornOutput.Quantile, 25, 3, 0.01, SortDirection.Ascending, Squashing.Logistic)]
    [InlineData(SinkhornOutput.Quantile, 8, 3, 0.1, SortDirection.Descending, Squashing.None)]
    [InlineData(SinkhornOutput.QuantileNormalize, 12, 5, 0.02, SortDirection.Ascending, Squashing.Logistic)]
    [InlineData(SinkhornOutput.QuantileNormalize, 5, 8, 0.01, SortDirection.Descending, Squashing.Arctan)]
    public void Implicit_vjp_equals_the_unrolled_vjp_at_convergence(SinkhornOutput output, int n, int m, double epsilon, SortDirection direction, Squashing squashing)
    {
        var unrolled = new SinkhornSorting(n, Options(output, n, m, epsilon, false, direction, squashing));
        var implicitVjp = new SinkhornSorting(n, Options(output, n, m, epsilon, true, direction, squashing));
        Assert.True(implicitVjp.ImplicitDifferentiation);
        Assert.False(unrolled.ImplicitDifferentiation);
        var rng = new System.Random(n * 31 + m);
        const int rows = 4;
        double[] x = Random(rng, rows * n, 4);
        double[] g = Random(rng, rows * unrolled.OutputDimension, 1);
        double[] y1 = new double[g.Length], y2 = new double[g.Length], v1 = new double[x.Length], v2 = new double[x.Length];
        SinkhornConvergence r1 = unrolled.ForwardVjpWithReport(x, g, y1, v1);
        SinkhornConvergence r2 = implicitVjp.ForwardVjpWithReport(x, g, y2, v2);
        // The forward pass is the same (bit for bit), every row converged, so every VJP was implicit.
        Assert.Equal(y1, y2);
        Assert.Equal(r1, r2);
        Assert.Equal(0, r1.CappedRows);
        Assert.Equal(0, r2.ImplicitFallbackRows);
        double scale = v1.Max(Math.Abs);
        Assert.True(scale > 1e-3, $"a VJP worth comparing: {scale}");
        for (int k = 0; k < x.Length; k++)
        {
            Assert.True(Math.Abs(v1[k] - v2[k]) <= 1e-9 * (1 + scale), $"{output} n={n} m={m}: VJP[{k}] unrolled {v1[k]}, implicit {v2[k]}");
        }
    }

    [Theory]
    [InlineData(SinkhornOutput.Rank, 6, 4, 0.05)]
    [InlineData(SinkhornOutput.Cdf, 5, 8, 0.1)]
    [InlineData(SinkhornOutput.Sort, 7, 3, 0.03)]
    [InlineData(SinkhornOutput.Quantile, 9, 3, 0.05)]
    [InlineData(SinkhornOutput.QuantileNormalize, 4, 6, 0.02)]
    public void Implicit_vjp_matches_central_differences_of_the_converged_operator(SinkhornOutput output, int n, int m, double epsilon)
    {
        // At a tolerance of 1e-13 the computed output is the converged operator to about 1e-13, so central differences
        // of step 1e-6 see its derivative to about 1e-7 — which the implicit VJP is.
        var op = new SinkhornSorting(n, Options(output, n, m, epsilon, true));
        var rng = new System.Random(n + 10 * m);
        double[] x = Random(rng, n, 3);
        double[] g = Random(rng, op.OutputDimension, 1);
        TestMath.AssertDoubleVjpMatchesFiniteDifferences(op, x, g, 1e-5);
    }

    [Fact]
    public void The_implicit_vjp_approaches_the_converged_derivative_as_the_tolerance_falls()
    {
        // What the implicit VJP misses is the plan's distance from its marginals, which the tolerance bounds: its gap
        // to the converged derivative shrinks with the tolerance.
        const int n = 20, m = 8;
        var rng = new System.Random(4);
        double[] x = Random(rng, n, 4), g = Random(rng, n, 1);
        double[] exact = Vjp(new SinkhornSorting(n, Options(SinkhornOutput.Rank, n, m, 0.02, false)), x, g);
        double Gap(double tolerance)
        {
            double[] v = Vjp(new SinkhornSorting(n, Options(SinkhornOutput.Rank, n, m, 0.02, true, tolerance: tolerance)), x, g);
            return Math.Sqrt(v.Zip(exact, (a, b) => (a - b) * (a - b)).Sum() / exact.Sum(e => e * e));
        }
        double[] gaps = [Gap(1e-2), Gap(1e-4), Gap(1e-6), Gap(1e-8), Gap(1e-10)];
        for (int k = 1; k < gaps.Length; k++) Assert.True(gaps[k] < gaps[k - 1], $"gaps {string.Join(", ", gaps)}");
        Assert.True(gaps[^1] < 1e-7, $"gap at tolerance 1e-10: {gaps[^1]}");
    }

    private static double[] Vjp(SinkhornSorting op, double[] x, double[] g)
    {
        var v = new double[x.Length];
        op.ForwardVjp(x, g, new double[g.Length], v);
        return v;
    }

    [Theory]
    [InlineData(SinkhornOutput.Rank)]
    [InlineData(SinkhornOutput.Sort)]   // the sorted values' direct dependence on x survives the second solve
    public void Rows_stopped_at_the_cap_are_unrolled_counted_and_thread_invariant(SinkhornOutput output)
    {
        // Unsquashed rows of growing spread: the first converge, the last stop at the cap. Capped rows get the unrolled
        // VJP (the derivative of their barycentric read-out), bit for bit, and are counted as fallbacks; converged rows
        // keep the implicit one. The whole call is the same bits on one thread and on all.
        const int n = 24, rows = 16;
        var rng = new System.Random(5);
        double[] x = Enumerable.Range(0, rows * n).Select(k => (1 + k / n) * 0.1 * (rng.NextDouble() - 0.5)).ToArray();
        double[] g = Random(rng, rows * n, 1);
        SinkhornSorting Create(bool implicitVjp, int threads) => new(n, new SinkhornOptions
        {
            Output = output, Epsilon = 0.01, MaxIterations = 250, Tolerance = 1e-6, Squashing = Squashing.None, ImplicitDifferentiation = implicitVjp, MaxDegreeOfParallelism = threads,
        });
        double[] y1 = new double[x.Length], y2 = new double[x.Length], v1 = new double[x.Length], v2 = new double[x.Length];
        SinkhornConvergence unrolled = Create(false, 1).ForwardVjpWithReport(x, g, y1, v1);
        SinkhornConvergence implicitReport = Create(true, 1).ForwardVjpWithReport(x, g, y2, v2);
        Assert.InRange(implicitReport.CappedRows, 4, rows - 4);
        Assert.Equal(implicitReport.CappedRows, implicitReport.ImplicitFallbackRows);
        Assert.Equal(0, unrolled.ImplicitFallbackRows);
        Assert.Equal(unrolled with { ImplicitFallbackRows = implicitReport.CappedRows }, implicitReport);
        Assert.Equal(y1, y2);
        var op = Create(true, 1);
        int capped = 0;
        for (int r = 0; r < rows; r++)
        {
            SinkhornConvergence own = op.ForwardWithReport(x.AsSpan(r * n, n), new double[n]);
            bool same = v1.AsSpan(r * n, n).SequenceEqual(v2.AsSpan(r * n, n));
            if (own.CappedRows == 1)
            {
                capped++;
                Assert.True(same, $"capped row {r}: its VJP is the unrolled one");
            }
            else
            {
                Assert.False(same, $"converged row {r}: its VJP is the implicit one, which rounds differently");
            }
        }
        Assert.Equal(implicitReport.CappedRows, capped);
        double[] y3 = new double[x.Length], v3 = new double[x.Length];
        Assert.Equal(implicitReport, Create(true, -1).ForwardVjpWithReport(x, g, y3, v3));
        Assert.Equal(y2, y3);
        Assert.Equal(v2, v3);
        var combined = implicitReport.Combine(implicitReport);
        Assert.Equal(2 * implicitReport.ImplicitFallbackRows, combined.ImplicitFallbackRows);
    }

    [Fact]
    public void Soft_ranking_options_reach_the_operator()
    {
        var layer = SoftRanking.CreateSort(6, new SoftRankingOptions { Method = SoftRankingMethod.Sinkhorn, Epsilon = 0.05, ImplicitDifferentiation = true, Tolerance = 1e-10 });
        Assert.True(((SinkhornSorting)layer).ImplicitDifferentiation);
        Assert.False(((SinkhornSorting)SoftRanking.CreateSort(6, new SoftRankingOptions { Method = SoftRankingMethod.Sinkhorn, Epsilon = 0.05 })).ImplicitDifferentiation);
    }

    [Fact]
    public void Too_many_targets_for_the_schur_system_are_refused_by_name()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SinkhornSorting(1, new SinkhornOptions { Targets = SinkhornSorting.MaxImplicitTargets + 1, ImplicitDifferentiation = true }));
        Assert.Equal("options", e.ParamName);
        Assert.Contains(nameof(SinkhornOptions.ImplicitDifferentiation), e.Message);
        Assert.Contains($"m = {SinkhornSorting.MaxImplicitTargets + 1}", e.Message);
        _ = new SinkhornSorting(1, new SinkhornOptions { Targets = SinkhornSorting.MaxImplicitTargets + 1 });   // the unrolled VJP has no such limit
    }

    [Fact]
    public void A_plan_in_two_blocks_is_differentiated_as_two_problems()
    {
        // Targets {0, 1} served by inputs {0, 1, 2} only, targets {2, 3, 4} by inputs {3, 4}: the targets' graph has two
        // components, the second cut off from the pinned target 0, so its potential is pinned too. Each block's C̄ is that
        // of the block alone.
        var rng = new System.Random(12);
        (int[] Rows, int[] Columns)[] blocks = [([0, 1, 2], [0, 1]), ([3, 4], [2, 3, 4])];
        double[] plan = new double[25], planBar = Random(rng, 25, 2);
        foreach (var (rows, columns) in blocks)
        {
            foreach (int i in rows) foreach (int j in columns) plan[i * 5 + j] = 0.01 + rng.NextDouble() / 25;
        }
        double[] full = CostBar(5, 5, plan, planBar);
        foreach (var (rows, columns) in blocks)
        {
            double[] subPlan = new double[rows.Length * columns.Length], subBar = new double[subPlan.Length];
            for (int a = 0; a < rows.Length; a++)
            {
                for (int b = 0; b < columns.Length; b++)
                {
                    subPlan[a * columns.Length + b] = plan[rows[a] * 5 + columns[b]];
                    subBar[a * columns.Length + b] = planBar[rows[a] * 5 + columns[b]];
                }
            }
            double[] sub = CostBar(rows.Length, columns.Length, subPlan, subBar);
            for (int a = 0; a < rows.Length; a++)
                for (int b = 0; b < columns.Length; b++)
                    Assert.Equal(sub[a * columns.Length + b], full[rows[a] * 5 + columns[b]], 12);
        }
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++)
                if (plan[i * 5 + j] == 0) Assert.Equal(0, full[i * 5 + j]);
    }

    [Fact]
    public void A_plan_with_an_empty_row_is_left_to_the_unrolled_vjp()
    {
        double[] plan = Enumerable.Range(0, 12).Select(k => k / 4 == 1 ? 0 : 0.05 + k / 100.0).ToArray();
        double[] planBar = Random(new System.Random(2), 12, 1);
        var w = Workspace(3, 4, plan, planBar, out SinkhornProblem problem);
        Assert.False(SinkhornImplicitGradient.Backward(problem, w));
        Assert.Equal(planBar, w.PlanBar);
    }

    /// <summary>C̄ of a given plan and P̄ through the implicit reverse mode (ε = 0.1).</summary>
    private static double[] CostBar(int n, int m, double[] plan, double[] planBar)
    {
        var w = Workspace(n, m, plan, planBar, out SinkhornProblem problem);
        Assert.True(SinkhornImplicitGradient.Backward(problem, w));
        return w.PlanBar;
    }

    private static SinkhornWorkspace Workspace(int n, int m, double[] plan, double[] planBar, out SinkhornProblem problem)
    {
        problem = new SinkhornProblem(n, new SinkhornOptions { Targets = m, Epsilon = 0.1 });
        var w = new SinkhornWorkspace(n, m);
        plan.CopyTo(w.Plan, 0);
        planBar.CopyTo(w.PlanBar, 0);
        return w;
    }
}
