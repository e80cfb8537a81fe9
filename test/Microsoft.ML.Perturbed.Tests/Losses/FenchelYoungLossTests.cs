using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Tests.Losses;

public class FenchelYoungLossTests
{
    private static FenchelYoungLoss Loss(Oracle oracle, double eps, int m, NoiseDistribution? noise = null) =>
        new(new PerturbedOptimizer(oracle, new PerturbedOptimizerOptions { Epsilon = eps, Samples = m, Noise = noise ?? NoiseDistribution.Normal, Seed = 3 }));

    [Fact]
    public void Gradient_is_the_perturbed_solution_minus_the_target_and_value_matches_the_gumbel_closed_form()
    {
        const int d = 4, m = 20_000;
        const double eps = 0.8;
        float[] theta = [0.4f, -0.3f, 1.1f, 0.2f];
        float[] target = [0, 1, 0, 0];
        var loss = Loss(new ArgmaxOracle(d), eps, m, NoiseDistribution.Gumbel);
        var values = new float[1];
        var grad = new float[d];
        double mean = loss.Evaluate(theta, target, values, grad, draw: 1);
        var yHat = new float[d];
        loss.Optimizer.Forward(theta, yHat, draw: 1);
        // Gumbel + argmax is computed in closed form (IsExact): the gradient is softmax(θ/ε) − y exactly, which the
        // Monte-Carlo ŷ of the same optimizer estimates (standard error ≤ 0.5/√M per entry).
        Assert.True(loss.IsExact);
        double[] softmax = TestMath.Softmax(theta, eps);
        for (int i = 0; i < d; i++)
        {
            Assert.Equal(softmax[i] - target[i], grad[i], 6);
            Assert.InRange(yHat[i] - target[i] - grad[i], -2.5 / Math.Sqrt(m), 2.5 / Math.Sqrt(m));
        }
        // F_ε(θ) − ⟨θ, y⟩ = ε(lse(θ/ε) + γ) − θ₁ (the Monte-Carlo estimate has standard error επ/√(6M)).
        double expected = eps * (TestMath.LogSumExp(theta, eps) + GumbelNoise.EulerGamma) - theta[1];
        double se = eps * Math.PI / Math.Sqrt(6 * m);
        Assert.InRange(mean, expected - 5 * se, expected + 5 * se);
        Assert.Equal(values[0], mean, 6);
    }

    [Fact]
    public void Gradient_is_the_exact_derivative_of_the_reported_value_with_common_random_numbers()
    {
        // With a fixed draw, F̂(θ) = (1/M) Σ max_y ⟨y, θ + εZₘ⟩ is piecewise linear with slope ŷ (Danskin), so the
        // reported value F̂ − ⟨θ, y⟩ has derivative exactly ŷ − y between kinks.
        var rng = new System.Random(4);
        const int d = 6;
        var loss = Loss(new RankingOracle(d), 0.5, 40);
        float[] theta = TestMath.RandomVector(rng, d);
        float[] target = [1, 2, 3, 4, 5, 6];
        float[] v = TestMath.RandomVector(rng, d);
        var grad = new float[d];
        var value = new float[1];
        loss.Evaluate(theta, target, value, grad, draw: 6);
        const float h = 1e-3f;
        double At(float sign)
        {
            float[] th = theta.Select((x, i) => x + sign * h * v[i]).ToArray();
            return loss.Evaluate(th, target, new float[1], new float[d], draw: 6);
        }
        double fd = (At(1) - At(-1)) / (2 * h);
        Assert.Equal(TestMath.Dot(grad, v), fd, 2);
    }

    [Fact]
    public void Reported_value_is_convex_in_theta_for_a_fixed_draw()
    {
        var rng = new System.Random(5);
        const int d = 8;
        var loss = Loss(new TopKOracle(d, 3), 1.0, 20);
        float[] target = [1, 1, 1, 0, 0, 0, 0, 0];
        for (int trial = 0; trial < 50; trial++)
        {
            float[] a = TestMath.RandomVector(rng, d, 3), b = TestMath.RandomVector(rng, d, 3);
            float[] mid = a.Select((x, i) => 0.5f * (x + b[i])).ToArray();
            double La = loss.Evaluate(a, target, new float[1], new float[d], 1);
            double Lb = loss.Evaluate(b, target, new float[1], new float[d], 1);
            double Lm = loss.Evaluate(mid, target, new float[1], new float[d], 1);
            Assert.True(Lm <= 0.5 * (La + Lb) + 1e-5, $"midpoint {Lm} above chord {0.5 * (La + Lb)}");
        }
    }

    [Fact]
    public void Gradient_descent_on_the_loss_learns_scores_whose_perturbed_ranking_is_the_target()
    {
        const int d = 5;
        var loss = Loss(new RankingOracle(d), 0.2, 10);
        float[] target = [3, 5, 1, 2, 4];
        var theta = new float[d];
        var grad = new float[d];
        var value = new float[1];
        double first = loss.Evaluate(theta, target, value, grad, 0);
        for (int step = 1; step <= 300; step++)
        {
            loss.Evaluate(theta, target, value, grad, (ulong)step);
            for (int i = 0; i < d; i++) theta[i] -= 0.1f * grad[i];
        }
        var yHat = new float[d];
        new PerturbedOptimizer(new RankingOracle(d), new PerturbedOptimizerOptions { Epsilon = 0.2, Samples = 1000 }).Forward(theta, yHat);
        for (int i = 0; i < d; i++) Assert.InRange(yHat[i], target[i] - 0.15, target[i] + 0.15);
        Assert.True(loss.Evaluate(theta, target, value, grad, 999) < first);
    }

    [Fact]
    public void Multiplicative_fenchel_young_weights_each_solution_by_its_noise_factor()
    {
        // With one sample the gradient is y*(θ ⊙ w) ⊙ w − y; w = exp(εZ − ε²/2) > 0, so its support is the solution's, and
        // a large ε makes w far from 1 (the plain ŷ − y would keep 0/1 entries).
        var head = new TopKOracle(6, 2);
        var loss = new FenchelYoungLoss(new PerturbedOptimizer(head, new PerturbedOptimizerOptions { Epsilon = 1, Samples = 1, Seed = 2, Perturbation = PerturbationKind.Multiplicative }));
        float[] theta = [1, 2, 3, 4, 5, 6], target = [1, 1, 0, 0, 0, 0], gradient = new float[6], value = new float[1];
        loss.Evaluate(theta, target, value, gradient, draw: 4);
        float[] weighted = gradient.Select((g, i) => g + target[i]).ToArray();
        Assert.Equal(2, weighted.Count(v => v > 0));
        Assert.Contains(weighted, v => v > 0 && Math.Abs(v - 1) > 1e-3);
        Assert.Equal(TestMath.Dot(gradient, theta), value[0], 4);   // F̂ = ⟨∇F̂, θ⟩: the value is ⟨∇F̂ − y, θ⟩
        Assert.Null(loss.DeviceForm);   // no device version: a device backend runs it on the host
    }

    [Fact]
    public void Bad_construction_and_input_throw()
    {
        // Multiplicative perturbation is accepted (issue 23); it refuses the scores it cannot perturb, naming them.
        var mult = new PerturbedOptimizer(new ArgmaxOracle(3), new PerturbedOptimizerOptions { Perturbation = PerturbationKind.Multiplicative });
        var negative = Assert.Throws<ArgumentException>(() => new FenchelYoungLoss(mult).Evaluate([1, -1, 2], [0, 0, 1], new float[1], new float[3]));
        Assert.Equal("theta", negative.ParamName);
        Assert.Contains("positive scores", negative.Message);
        var loss = Loss(new ArgmaxOracle(3), 1, 2);
        Assert.Equal("target", Assert.Throws<ArgumentException>(() => loss.Evaluate(new float[3], new float[2], new float[1], new float[3])).ParamName);
        Assert.Equal("loss", Assert.Throws<ArgumentException>(() => loss.Evaluate(new float[3], new float[3], new float[2], new float[3])).ParamName);
        Assert.Contains("row 0, column 1", Assert.Throws<ArgumentException>(() => loss.Evaluate(new float[3], [0, float.NaN, 1], new float[1], new float[3])).Message);
        var rectangular = new PerturbedOptimizer(Oracle.Create(2, 3, (t, y) => y.Clear()));
        Assert.Throws<ArgumentException>(() => new FenchelYoungLoss(rectangular));
    }
}
