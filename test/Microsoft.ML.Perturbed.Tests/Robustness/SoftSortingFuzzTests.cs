using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.ML.Perturbed.Sorting;
using Xunit.Abstractions;
using static Microsoft.ML.Perturbed.Tests.Robustness.FuzzCases;

namespace Microsoft.ML.Perturbed.Tests.Robustness;

/// <summary>
/// The fuzz suite's soft sorting part (see <see cref="FuzzTests"/>): permutahedron ranks and sorts at every scale and
/// strength, mixed scales and cancelling sums included, against their documented invariants (<see cref="SortingInvariants"/>),
/// the float64 computation and the exact limit; Sinkhorn converged or stopped after one to three iterations, in range.
/// </summary>
public class SoftSortingFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Soft_ranks_and_sorts_at_every_scale_and_strength()
    {
        string[] operators = ["RankL2", "RankKL", "RankL2Desc", "RankKLDesc", "SortL2", "SortL2Desc", "SortKL", "SortKLDesc", "QuantileL2"];
        int ok = 0, refused = 0;
        foreach (Case c in Cases(operators, 500, seed: 1, mixedScales: true))
        {
            float[] x = Input(c, c.Index);
            PermutahedronProjection op;
            try
            {
                op = Create(c);
            }
            catch (ArgumentOutOfRangeException e)
            {
                Assert.Equal("epsilon", e.ParamName);
                refused++;
                continue;
            }
            var y = new float[x.Length];
            if (c.Pattern == Pattern.Bad)
            {
                AssertNamesTheBadValue(c, () => op.Forward(x, y), "theta");
                continue;
            }
            float[] g = TestMath.RandomVector(new System.Random(c.Index), x.Length);
            var vjp = new float[x.Length];
            try
            {
                op.ForwardVjp(x, g, y, vjp);
            }
            catch (ArgumentOutOfRangeException e) when (IsRefusalOfEpsilon(e))
            {
                refused++;   // a derivative of order 1/ε that float cannot hold, or θ/ε out of double's range away from the limit
                continue;
            }
            Assert.All(y, v => Assert.True(float.IsFinite(v), $"{c}: output {v}"));
            Assert.All(vjp, v => Assert.True(float.IsFinite(v), $"{c}: VJP {v}"));
            // Against the float64 computation of the same operator.
            var yDouble = new double[x.Length];
            op.Forward(x.Select(v => (double)v).ToArray(), yDouble);
            for (int r = 0; r < c.Batch; r++)
            {
                ReadOnlySpan<float> row = x.AsSpan(r * c.N, c.N), out1 = y.AsSpan(r * c.N, c.N);
                double scale = Math.Max(1, row.ToArray().Max(v => Math.Abs((double)v)));
                for (int i = 0; i < c.N; i++)
                {
                    Assert.True(Math.Abs(out1[i] - yDouble[r * c.N + i]) <= 1e-5 * Math.Max(scale, Math.Abs(yDouble[r * c.N + i])), $"{c}: float {out1[i]} vs double {yDouble[r * c.N + i]}");
                }
                CheckInvariants(c, op, row, out1);
            }
            ok++;
        }
        output.WriteLine($"{ok} correct results, {refused} clear refusals");
        Assert.True(ok > 180, $"only {ok} cases produced results");
    }

    private static PermutahedronProjection Create(Case c) => c.Operator switch
    {
        "RankL2" => new SoftRank(c.N, c.Epsilon),
        "RankKL" => new SoftRank(c.N, c.Epsilon, SoftRegularization.KL),
        "RankL2Desc" => new SoftRank(c.N, c.Epsilon, SoftRegularization.L2, SortDirection.Descending),
        "RankKLDesc" => new SoftRank(c.N, c.Epsilon, SoftRegularization.KL, SortDirection.Descending),
        "SortL2" => new SoftSort(c.N, c.Epsilon),
        "SortL2Desc" => new SoftSort(c.N, c.Epsilon, SoftRegularization.L2, SortDirection.Descending),
        "SortKL" => new SoftSort(c.N, c.Epsilon, SoftRegularization.KL),
        "SortKLDesc" => new SoftSort(c.N, c.Epsilon, SoftRegularization.KL, SortDirection.Descending),
        "QuantileL2" => new SoftQuantileNormalization(QuantileTargets.Uniform(c.N), c.Epsilon),
        _ => throw new ArgumentOutOfRangeException(nameof(c), c.Operator, "Unknown fuzz operator."),
    };

    private static void CheckInvariants(Case c, PermutahedronProjection op, ReadOnlySpan<float> row, ReadOnlySpan<float> y)
    {
        int n = c.N;
        bool descending = op.Direction == SortDirection.Descending;
        if (op is SoftRank)
        {
            SortingInvariants.Assert(op, row, y, c.ToString());
            float[] ascending = descending ? y.ToArray().Select(v => n + 1 - v).ToArray() : y.ToArray();
            AssertInPermutahedron(ascending, c.ToString());
            // Order: a larger input never gets a smaller (ascending) rank.
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (row[i] > row[j]) Assert.True(ascending[i] >= ascending[j] - 1e-4, $"{c}: order broken at ({i}, {j})");
            // The exact limit: hard ranks, ties averaged, once ε is 0 or every gap exceeds n·ε.
            if (c.Epsilon == 0 || MinGap(row) > 4 * n * c.Epsilon)
            {
                double[] hard = HardRanks(row);
                for (int i = 0; i < n; i++) Assert.Equal(hard[i], ascending[i], 4);
            }
        }
        else if (op is SoftSort)
        {
            // Sorted, in [min θ, max θ], and the sum (L2) or LSE(sign·y) (KL) kept to float precision of Σ|θ| or max|θ|.
            SortingInvariants.Assert(op, row, y, c.ToString());
            if (c.Epsilon == 0 || MaxGap(row) * c.Epsilon * (Math.Log(n) + 1) < 0.5)
            {
                double scale = Math.Max(1, row.ToArray().Max(v => Math.Abs((double)v)));
                float[] exact = row.ToArray().Order().ToArray();
                if (descending) Array.Reverse(exact);
                for (int k = 0; k < n; k++) Assert.True(Math.Abs(exact[k] - y[k]) <= 1e-5 * scale, $"{c}: exact sort {exact[k]} vs {y[k]}");
            }
        }
    }

    private static double MinGap(ReadOnlySpan<float> row)
    {
        double[] s = row.ToArray().Select(v => (double)v).Order().ToArray();
        double min = double.PositiveInfinity;
        for (int k = 0; k + 1 < s.Length; k++) if (s[k + 1] > s[k]) min = Math.Min(min, s[k + 1] - s[k]);
        return min;
    }

    private static double MaxGap(ReadOnlySpan<float> row) => row.ToArray().Max(v => (double)v) - row.ToArray().Min(v => (double)v);

    [Fact]
    public void Sinkhorn_at_every_scale_converged_or_capped_is_finite_and_in_range()
    {
        int ok = 0, capped = 0;
        int[] caps = [1, 2, 3, 200];
        foreach (Case c in Cases(["Rank", "Sort", "Cdf", "RankDesc"], 160, seed: 3, mixedScales: true))
        {
            if (c.N > 8) continue;
            float[] x = Input(c, c.Index);
            // One to three iterations with tolerance 0 stop every row at the cap; 200 iterations mostly converge.
            int cap = caps[c.Index % caps.Length];
            SinkhornSorting op;
            try
            {
                op = new SinkhornSorting(c.N, new SinkhornOptions
                {
                    Epsilon = c.Epsilon, MaxIterations = cap, Tolerance = cap <= 3 ? 0 : 1e-4,
                    Output = c.Operator.StartsWith("Rank", StringComparison.Ordinal) ? SinkhornOutput.Rank : c.Operator == "Sort" ? SinkhornOutput.Sort : SinkhornOutput.Cdf,
                    Direction = c.Operator == "RankDesc" ? SortDirection.Descending : SortDirection.Ascending,
                });
            }
            catch (ArgumentOutOfRangeException e)
            {
                Assert.Equal("options", e.ParamName);
                Assert.True(!(c.Epsilon >= SinkhornSorting.MinEpsilon), $"{c}: refused a valid ε");
                continue;
            }
            var y = new float[c.Batch * op.OutputDimension];
            if (c.Pattern == Pattern.Bad)
            {
                AssertNamesTheBadValue(c, () => op.Forward(x, y), "theta");
                continue;
            }
            var vjp = new float[x.Length];
            SinkhornConvergence report = op.ForwardVjpWithReport(x, TestMath.RandomVector(new System.Random(c.Index), y.Length), y, vjp);
            Assert.All(y, v => Assert.True(float.IsFinite(v), $"{c}: {v}"));
            Assert.All(vjp, v => Assert.True(float.IsFinite(v), $"{c}: VJP {v}"));
            Assert.Equal(c.Batch, report.Rows);
            // Capped rows are read out as barycentres: exactly in range. Converged rows may overshoot by the tolerance.
            bool allCapped = cap <= 3;
            if (allCapped)
            {
                Assert.Equal(c.Batch, report.CappedRows);
                capped++;
            }
            double slack = allCapped ? 0 : 1e-3;
            for (int r = 0; r < c.Batch; r++)
            {
                float[] row = x.AsSpan(r * c.N, c.N).ToArray(), outputs = y.AsSpan(r * op.OutputDimension, op.OutputDimension).ToArray();
                (double lo, double hi) = op.Output switch
                {
                    SinkhornOutput.Rank => (1.0, c.N),
                    SinkhornOutput.Cdf => (1.0 / c.N, 1.0),
                    SinkhornOutput.Sort => (row.Min(), row.Max()),
                    _ => throw new ArgumentOutOfRangeException(nameof(c), op.Output, "Unknown fuzz output."),
                };
                double pad = slack * Math.Max(1, Math.Max(Math.Abs(lo), Math.Abs(hi)));
                Assert.All(outputs, v => Assert.True(v >= lo - pad && v <= hi + pad, $"{c} cap {cap}: {v} outside [{lo}, {hi}]"));
            }
            ok++;
        }
        output.WriteLine($"{ok} correct results ({capped} stopped at a cap of 1–3 iterations)");
        Assert.True(ok > 30 && capped > 15, $"{ok} results, {capped} capped");
    }

    [Property(MaxTest = 150)]
    public Property Soft_ranks_lie_in_the_permutahedron_at_every_scale(NonEmptyArray<float> raw, int exponent, bool kl)
    {
        float[] x = Scaled(raw.Get, exponent);
        var y = new float[x.Length];
        new SoftRank(x.Length, 0.5, kl ? SoftRegularization.KL : SoftRegularization.L2).Forward(x, y);
        AssertInPermutahedron(y, $"ranks of [{string.Join(", ", x)}]");
        return true.ToProperty();
    }

    [Property(MaxTest = 150)]
    public Property Soft_sorts_keep_order_range_and_their_invariant_at_every_scale(NonEmptyArray<float> raw, int exponent, bool kl, bool descending)
    {
        float[] x = Scaled(raw.Get, exponent);
        var y = new float[x.Length];
        var op = new SoftSort(x.Length, 0.5, kl ? SoftRegularization.KL : SoftRegularization.L2, descending ? SortDirection.Descending : SortDirection.Ascending);
        op.Forward(x, y);
        SortingInvariants.Assert(op, x, y, $"sort of [{string.Join(", ", x)}]");
        return true.ToProperty();
    }
}
