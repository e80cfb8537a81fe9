using System.Collections.Concurrent;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Tests.Robustness;

/// <summary>Silent results a black-box fuzz found (issue "right or refused"): each is now right or refused by name.</summary>
public class SilentDefectTests
{
    [Theory]
    [InlineData(OptimizationSense.Maximize)]
    [InlineData(OptimizationSense.Minimize)]
    public void A_user_oracle_that_writes_only_some_slots_passes_on_zeros_not_stale_values(OptimizationSense sense)
    {
        // Writes slot 0 only; the other slots must read 0 whatever the buffer held before.
        Oracle oracle = Oracle.Create(4, 4, (theta, y) => y[0] = 1, "FirstOnly", sense);
        float[] theta = [1, 2, 3, 4, 5, 6, 7, 8];
        float[] y = Enumerable.Repeat(7f, 8).ToArray();
        oracle.Solve(theta, y);
        Assert.Equal(new float[] { 1, 0, 0, 0, 1, 0, 0, 0 }, y);
        // Through a perturbed optimizer: M samples share one buffer per row, and the mean is exactly (1, 0, 0, 0).
        var optimizer = new PerturbedOptimizer(oracle, new PerturbedOptimizerOptions { Samples = 16, Perturbation = sense == OptimizationSense.Minimize ? PerturbationKind.Multiplicative : PerturbationKind.Additive });
        float[] mean = new float[8];
        optimizer.Forward(theta, mean);
        Assert.Equal(new float[] { 1, 0, 0, 0, 1, 0, 0, 0 }, mean);
    }

    [Fact]
    public void Blackbox_lambda_outside_its_range_is_refused_and_an_overflowing_vjp_is_named()
    {
        var head = new RankingOracle(4);
        foreach (double lambda in new[] { 1e-45, 0, -1, double.NaN, double.PositiveInfinity, 1e31 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new BlackboxLayer(head, lambda));
            Assert.Contains("[1E-30, 1E+30]", e.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => StructuredLoss.Create(head, StructuredLossKind.Blackbox, new StructuredLossOptions { BlackboxLambda = lambda }));
        }
        // The smallest accepted λ on tied scores: a finite VJP (ranks differ by at most 3: 3e30 fits in float) for this head.
        var layer = new BlackboxLayer(head, BlackboxLayer.MinLambda);
        float[] theta = [1, 1, 1, 1], g = [1, -1, 0, 0], y = new float[4], vjp = new float[4];
        layer.ForwardVjp(theta, g, y, vjp);
        Assert.All(vjp, v => Assert.True(float.IsFinite(v)));
        // A head whose solutions are large enough to overflow at that λ is refused naming row and column.
        Oracle big = Oracle.Create(2, 2, (t, s) => { int i = t[0] >= t[1] ? 0 : 1; s[i] = 1e10f; }, "Big");
        var overflow = Assert.Throws<ArgumentException>(() => new BlackboxLayer(big, BlackboxLayer.MinLambda).ForwardVjp(new float[] { 1, 0 }, new float[] { 1e30f, -1e30f }, new float[2], new float[2]));
        Assert.Contains("overflows single precision at row 0", overflow.Message);
    }

    [Theory]
    [InlineData(StructuredLossKind.Blackbox)]
    [InlineData(StructuredLossKind.IdentityWithProjection)]
    [InlineData(StructuredLossKind.FenchelYoung)]
    [InlineData(StructuredLossKind.PerturbedSquared)]
    [InlineData(StructuredLossKind.SpoPlus)]
    public void MaxDegreeOfParallelism_one_keeps_every_loss_on_the_calling_thread(StructuredLossKind kind)
    {
        var threads = new ConcurrentDictionary<int, bool>();
        Oracle head = Oracle.Create(6, 6, (theta, y) =>
        {
            threads[Environment.CurrentManagedThreadId] = true;
            int best = 0;
            for (int i = 1; i < theta.Length; i++) if (theta[i] > theta[best]) best = i;
            y[best] = 1;
        }, "CountingArgmax");
        StructuredLoss loss = StructuredLoss.Create(head, kind, new StructuredLossOptions { MaxDegreeOfParallelism = 1, Samples = 4 });
        int rows = 512;
        var random = new System.Random(3);
        float[] theta = Enumerable.Range(0, rows * loss.Dimension).Select(_ => (float)random.NextDouble()).ToArray();
        float[] target = new float[rows * loss.TargetDimension];
        for (int r = 0; r < rows; r++) target[r * loss.TargetDimension + r % 6] = 1;
        loss.Evaluate(theta, target, new float[rows], new float[theta.Length], draw: 1);
        Assert.Equal([Environment.CurrentManagedThreadId], threads.Keys);
    }

    [Fact]
    public void The_losses_that_run_no_user_oracle_take_the_setting_too()
    {
        var options = new StructuredLossOptions { MaxDegreeOfParallelism = 1 };
        Assert.Equal(1, ((RowwiseLoss)StructuredLoss.Create(new ArgmaxOracle(5), StructuredLossKind.DirectLoss, options)).MaxDegreeOfParallelism);
        var squared = (LayerLoss)StructuredLoss.Create(new ArgmaxOracle(5), StructuredLossKind.SquaredScores, options);
        Assert.Equal(1, ((RowLayer)squared.Layer).MaxDegreeOfParallelism);
    }

    [Fact]
    public void A_direct_loss_step_whose_growing_epsilon_overflows_blames_epsilon_not_theta()
    {
        // ε = −1 leaves the solution as it is (θ's lead is 100), so |ε| grows — by 1e39 — and μ + σγ ± εt leaves single precision.
        var loss = new DirectLossMinimization(new ArgmaxOracle(3), LinearLosses.ZeroOneSquared,
            new DirectLossOptions { Epsilon = -1, EpsilonGrowth = 1e39, NoiseScale = 0, MaxEpsilonDoublings = 1 });
        float[] theta = [100, 0, 0], target = [0, 0, 1];
        var e = Assert.Throws<ArgumentException>(() => loss.Evaluate(theta, target, new float[1], new float[3], draw: 0));
        Assert.Equal("Epsilon", e.ParamName);
        Assert.Contains("growths by 1E+39 from -1", e.Message);
    }
}
