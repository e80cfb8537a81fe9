using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Robustness;

/// <summary>The cases of the robustness issue: each gives the right answer (the exact limit where it applies) or a clear error.</summary>
public class ScaleTests
{
    private static float[] Run(Layer op, float[] x)
    {
        var y = new float[x.Length];
        op.Forward(x, y);
        return y;
    }

    [Theory]
    [InlineData((int)SoftRegularization.L2)]
    [InlineData((int)SoftRegularization.KL)]
    public void Huge_scores_give_the_hard_ranks(int regValue)
    {
        var reg = (SoftRegularization)regValue;   // xUnit theories are public; the enum is internal
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

    [Fact]
    public void The_perturbed_maximum_and_the_fenchel_young_value_survive_huge_scores()
    {
        var opt = new PerturbedOptimizer(new RankingOracle(3), new PerturbedOptimizerOptions { Epsilon = 1, Samples = 50, Seed = 1 });
        float[] theta = [3e38f, 1e38f, -2e38f];
        var fHat = new double[1];
        opt.Forward(theta, new float[3], fHat);
        Assert.Equal(3.0 * theta[0] + 2.0 * theta[1] + 1.0 * theta[2], fHat[0], 1e31);   // ⟨y*, θ⟩ ≈ 9e38: finite in double
        Assert.Contains("Span<double>", Assert.Throws<ArgumentException>(() => opt.Forward(theta, new float[3], new float[1])).Message);
        // FY value at θ ≈ 1e30 with the target the hard ranks: of order ε, not 1e22 (cancellation).
        var fy = new FenchelYoungLoss(opt);
        var value = new float[1];
        fy.Evaluate([1e30f, 5e29f, -1e30f], [3, 2, 1], value, new float[3]);
        Assert.InRange(value[0], -10f, 10f);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(() => fy.Evaluate([1, 2, 3], [3, 2, 1], value, new float[2])).ParamName);
    }

    [Fact]
    public void Epsilon_outside_its_documented_range_is_refused_at_construction()
    {
        foreach (double epsilon in new[] { 1e-40, 5e-324, 1e31, 0, -1, double.NaN })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PerturbedOptimizer(new ArgmaxOracle(3), new PerturbedOptimizerOptions { Epsilon = epsilon }));
            Assert.Contains(epsilon.ToString(System.Globalization.CultureInfo.CurrentCulture), e.Message);
        }
        foreach (double epsilon in new[] { 1e-300, 5e-324, 1e-7 })
        {
            Assert.Contains("≥ 1E-06", Assert.Throws<ArgumentOutOfRangeException>(() => new SinkhornSorting(4, new SinkhornOptions { Epsilon = epsilon })).Message);
        }
        // Multiplicative perturbation of θ = 1.4e-45: the derivative 1/(εθ) cannot be held, and the call says so by row and column.
        var mult = new PerturbedOptimizer(new ArgmaxOracle(2), new PerturbedOptimizerOptions { Perturbation = PerturbationKind.Multiplicative, Epsilon = 0.1 });
        var e2 = Assert.Throws<ArgumentException>(() => mult.ForwardVjp([1.4e-45f, 1f], [1, 0], new float[2], new float[2]));
        Assert.Equal("theta", e2.ParamName);
        Assert.Contains("row 0, column 0", e2.Message);
    }

    [Fact]
    public void Sample_counts_and_plan_sizes_are_bounded_before_anything_is_allocated()
    {
        Assert.Contains("Samples", Assert.Throws<ArgumentOutOfRangeException>(() => new PerturbedOptimizer(new ArgmaxOracle(3), new PerturbedOptimizerOptions { Samples = int.MaxValue })).Message);
        Assert.Contains("exceeds", Assert.Throws<ArgumentOutOfRangeException>(() => new PerturbedOptimizer(new ArgmaxOracle(4096), new PerturbedOptimizerOptions { Samples = PerturbedOptimizerOptions.MaxSamples })).Message);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SinkhornSorting(10_000));
        Assert.Contains("10000 values × 10000 targets", e.Message);
    }

    [Fact]
    public void Sinkhorn_reports_how_it_converged()
    {
        var capped = new SinkhornSorting(6, new SinkhornOptions { Epsilon = 1e-3, MaxIterations = 3, Tolerance = 1e-9 });
        SinkhornConvergence c = capped.ForwardWithReport([0.1f, 0.5f, 0.2f, 0.9f, 0.3f, 0.35f, 1, 2, 3, 4, 5, 6], new float[12]);
        Assert.Equal(2, c.Rows);
        Assert.Equal(2, c.CappedRows);
        Assert.Equal(3, c.MostIterations);
        Assert.True(c.WorstMarginalError > 1e-9);
        var converged = new SinkhornSorting(6, new SinkhornOptions { Epsilon = 0.1, MaxIterations = 10_000, Tolerance = 1e-6 });
        SinkhornConvergence fine = converged.ForwardWithReport([0.1f, 0.5f, 0.2f, 0.9f, 0.3f, 0.35f], new float[6]);
        Assert.Equal(1, fine.Rows);
        Assert.Equal(0, fine.CappedRows);
        Assert.True(fine.WorstMarginalError < 1e-6);
        // A report is the call's own: the same rows again report the same, not a running total.
        Assert.Equal(fine, converged.ForwardWithReport([0.1f, 0.5f, 0.2f, 0.9f, 0.3f, 0.35f], new float[6]));
        Assert.InRange(fine.MostIterations, 4, 10_000);
        Assert.Equal(new SinkhornConvergence(3, 2, fine.MostIterations, c.WorstMarginalError), c.Combine(fine));
    }

    [Fact]
    public void A_user_oracle_that_writes_nan_is_named()
    {
        Oracle broken = Oracle.Create(3, 3, (th, y) => { y.Clear(); y[1] = float.NaN; }, "Broken");
        var e = Assert.Throws<InvalidOperationException>(() => new PerturbedOptimizer(broken, new PerturbedOptimizerOptions { Samples = 2 }).Forward(new float[6], new float[6]));
        Assert.Contains("Broken", e.Message);
        Assert.Contains("column 1", e.Message);
        Assert.Contains("Broken", Assert.Throws<InvalidOperationException>(() => new SolverLayer(broken).Forward(new float[3], new float[3])).Message);
    }

    [Fact]
    public void Perturbed_sorting_names_its_own_arguments()
    {
        var op = new PerturbedSorting(3, sort: false, SortDirection.Ascending, new PerturbedOptimizerOptions { Samples = 4 });
        Assert.Equal("solution", Assert.Throws<ArgumentException>(() => op.Forward(new float[3], new float[2])).ParamName);
        Assert.Equal("vjp", Assert.Throws<ArgumentException>(() => op.ForwardVjp(new float[3], new float[3], new float[3], new float[1])).ParamName);
    }

    [Fact]
    public void Training_that_diverges_says_so_with_the_epoch_and_a_hint()
    {
        float[] x = [1e30f, -1e30f, 2e30f, 1e30f, -3e30f, 5e29f];
        float[] y = [1, 0, 0, 1, 1, 0];
        var e = Assert.Throws<TrainingDivergedException>(() => StructuredTrainer.Train(new ArgmaxOracle(2), x, y, 2,
            new StructuredTrainerOptions { Optimizer = GradientOptimizerKind.Sgd, LearningRate = 1, Loss = StructuredLossKind.SquaredScores, NumberOfIterations = 5 }));
        Assert.Contains("diverged at epoch", e.Message);
        Assert.Contains("LearningRate", e.Message);
    }
}
