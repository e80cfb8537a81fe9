using Microsoft.ML.Perturbed.Numerics;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Tests.Robustness;

/// <summary>Soft sorting at the edges (issue "right or refused", items 3 and 4): right at every scale, in range when capped.</summary>
public class SoftSortingDefectTests
{
    // Rows at 1e30, 3e38 and float's maximum, and mixed scales: four values of magnitude 1e30 whose sum is 5e29, and a
    // row that mixes 1e30 with values near 1 (the small ones are below the arithmetic's precision relative to Σ|θ|).
    private static readonly float[][] Rows =
    [
        [-1e30f, 1.5e30f, -1e30f, 1e30f],
        [-1.2e30f, -0.9e30f, -1.1e30f, 3.7e30f],
        [3e38f, -3e38f, 1e38f, 2e38f],
        [float.MaxValue, -float.MaxValue, float.MaxValue, 1e30f],
        [1, 1e30f, -1e30f, 5],
        [-3e38f, 1e-45f, 2.5e38f, -1e38f, 7],
    ];

    public static TheoryData<int, SortDirection, bool> Operators()
    {
        var data = new TheoryData<int, SortDirection, bool>();
        foreach (SoftRegularization regularization in new[] { SoftRegularization.L2, SoftRegularization.KL })
            foreach (SortDirection direction in new[] { SortDirection.Ascending, SortDirection.Descending })
                foreach (bool rank in new[] { false, true })
                    data.Add((int)regularization, direction, rank);
        return data;
    }

    [Theory]
    [MemberData(nameof(Operators))]
    public void Soft_sorts_and_ranks_keep_their_invariant_up_to_float_max(int regularizationValue, SortDirection direction, bool rank)
    {
        var regularization = (SoftRegularization)regularizationValue;   // xUnit theories are public; the enum is internal
        foreach (double epsilon in new[] { 1e-3, 1, 1e30 })
        {
            foreach (float[] x in Rows)
            {
                int n = x.Length;
                PermutahedronProjection op = rank ? new SoftRank(n, epsilon, regularization, direction) : new SoftSort(n, epsilon, regularization, direction);
                string what = $"{op.GetType().Name} {regularization} {direction} ε={epsilon} [{string.Join(", ", x)}]";
                var y = new float[n];
                op.ForwardVjp(x, Enumerable.Range(0, n).Select(i => (float)(i % 3 - 1)).ToArray(), y, new float[n]);
                SortingInvariants.Assert(op, x, y, what);
                // The double overload agrees with the float one to float rounding.
                var yDouble = new double[n];
                op.Forward(x.Select(v => (double)v).ToArray(), yDouble);
                for (int i = 0; i < n; i++) Assert.Equal(y[i], (float)yDouble[i]);
            }
        }
    }

    [Fact]
    public void Kl_soft_sort_of_huge_values_is_their_log_mean_exp_not_their_mean()
    {
        // The report: [−1e30, 1.5e30, −1e30, 1e30] (sum 5e29) sorted with KL at ε = 1 came back as [−1e30 × 4]. That is
        // the right answer: at |θ|·ε ≫ 1 every value pools into one block, and KL keeps LSE(sign·y) = LSE(sign·θ), not
        // the sum, so each output is sign·(LSE(sign·θ) + log softmax(ρ/ε)ₖ) = min θ + O(1) (ascending), which is −1e30 in
        // float. L2 keeps the sum and returns the mean, 1.25e29.
        float[] x = [-1e30f, 1.5e30f, -1e30f, 1e30f];
        var kl = new float[4];
        new SoftSort(4, 1, SoftRegularization.KL).Forward(x, kl);
        Assert.Equal(new[] { -1e30f, -1e30f, -1e30f, -1e30f }, kl);
        var klDescending = new float[4];
        new SoftSort(4, 1, SoftRegularization.KL, SortDirection.Descending).Forward(x, klDescending);
        Assert.Equal(new[] { 1.5e30f, 1.5e30f, 1.5e30f, 1.5e30f }, klDescending);
        var l2 = new float[4];
        new SoftSort(4, 1).Forward(x, l2);
        Assert.All(l2, v => Assert.Equal((float)(x.Sum(v => (double)v) / 4), v));   // 1.25e29 up to the inputs' own rounding
        // Away from the pooled regime (|θ|·ε of order 1) the KL invariant is visible in every digit.
        float[] small = [-1, 1.5f, -1, 1];
        var y = new float[4];
        var op = new SoftSort(4, 1, SoftRegularization.KL);
        op.Forward(small, y);
        SortingInvariants.Assert(op, small, y, "KL at |θ| ~ 1");
        Assert.NotEqual(y[0], y[3]);
    }

    public static TheoryData<SinkhornOutput, SortDirection> SinkhornOutputs()
    {
        var data = new TheoryData<SinkhornOutput, SortDirection>();
        foreach (SinkhornOutput output in Enum.GetValues<SinkhornOutput>())
            foreach (SortDirection direction in new[] { SortDirection.Ascending, SortDirection.Descending })
                data.Add(output, direction);
        return data;
    }

    [Theory]
    [MemberData(nameof(SinkhornOutputs))]
    public void A_sinkhorn_run_stopped_at_its_cap_stays_in_range_and_reports_the_cap(SinkhornOutput output, SortDirection direction)
    {
        // One iteration fixes the columns last, so the rows' masses are off; a⁻¹ = n read them as if exact and gave
        // ranks such as 5.5 for n = 4. A capped row is now read out with its own mass (a barycentre).
        const int n = 4;
        double[] f = [-2, 0.5, 1, 3];
        var rng = new System.Random(4);
        foreach (double epsilon in new[] { 1e-3, 0.01, 0.1 })
        {
            for (int iterations = 1; iterations <= 3; iterations++)
            {
                var op = new SinkhornSorting(n, new SinkhornOptions
                {
                    Output = output, Direction = direction, Epsilon = epsilon, MaxIterations = iterations, Tolerance = 1e-9,
                    TargetValues = output == SinkhornOutput.QuantileNormalize ? f : null,
                });
                const int rows = 8;
                float[] x = Enumerable.Range(0, rows * n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
                var y = new float[rows * op.OutputDimension];
                SinkhornConvergence report = op.ForwardVjpWithReport(x, Enumerable.Range(0, y.Length).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), y, new float[x.Length]);
                Assert.Equal(new SinkhornConvergence(rows, rows, iterations, report.WorstMarginalError), report);
                for (int r = 0; r < rows; r++)
                {
                    float[] row = x.AsSpan(r * n, n).ToArray(), outputs = y.AsSpan(r * op.OutputDimension, op.OutputDimension).ToArray();
                    (double lo, double hi) = output switch
                    {
                        SinkhornOutput.Rank => (1.0, n),
                        SinkhornOutput.Cdf => (1.0 / n, 1.0),
                        SinkhornOutput.QuantileNormalize => (f[0], f[^1]),
                        SinkhornOutput.Sort or SinkhornOutput.Quantile => (row.Min(), row.Max()),
                        _ => throw new ArgumentOutOfRangeException(nameof(output)),
                    };
                    Assert.All(outputs, v => Assert.True(v >= lo && v <= hi, $"{output} ε={epsilon} {iterations} iterations: {v} outside [{lo}, {hi}]"));
                }
            }
        }
    }

    [Theory]
    [InlineData(SinkhornOutput.Rank)]
    [InlineData(SinkhornOutput.Sort)]
    [InlineData(SinkhornOutput.QuantileNormalize)]
    public void The_capped_read_out_has_the_derivative_of_what_it_returns(SinkhornOutput output)
    {
        const int n = 4;
        var op = new SinkhornSorting(n, new SinkhornOptions { Output = output, Epsilon = 0.05, MaxIterations = 1, TargetValues = output == SinkhornOutput.QuantileNormalize ? [-1, 0, 2, 5] : null });
        double[] x = [0.3, -1.2, 0.8, 0.1], g = [0.5, -1, 0.25, 0.7];
        TestMath.AssertDoubleVjpMatchesFiniteDifferences(op, x, g, 1e-6);
    }

    [Fact]
    public void A_converged_sinkhorn_row_keeps_the_a_inverse_read_out()
    {
        // Converged rows are read as before, n²·⟨Pᵢ, cumsum(b)⟩ (a⁻¹ = n), not with their own mass, which would move them
        // by up to the tolerance: results at convergence are unchanged.
        const int n = 6;
        var op = new SinkhornSorting(n, new SinkhornOptions { Epsilon = 0.01 });
        double[] x = [0.7, -1.3, 2.2, 0.1, 1.5, -0.4];
        var ranks = new double[n];
        Assert.Equal(0, op.ForwardWithReport(x, ranks).CappedRows);
        var plan = new double[n * n];
        op.Plan(x, plan);
        double[] cumulative = Enumerable.Range(1, n).Select(j => (double)j / n).ToArray();
        double largestMove = 0;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> row = plan.AsSpan(i * n, n);
            double readOut = (double)n * n * SpanMath.Dot(row, cumulative), barycentric = n * SpanMath.Dot(row, cumulative) / SpanMath.Sum(row);
            Assert.Equal(readOut, ranks[i], 1e-14 * n);
            largestMove = Math.Max(largestMove, Math.Abs(barycentric - readOut));
        }
        Assert.True(largestMove > 1e-9, "the row masses differ from a within the tolerance, so the two read-outs differ");
    }
}
