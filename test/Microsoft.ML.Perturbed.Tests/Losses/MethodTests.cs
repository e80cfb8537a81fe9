using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Losses;

/// <summary>The formulas of blackbox, identity with projection, SPO+ and direct loss minimization, checked exactly.</summary>
public class MethodTests
{
    [Fact]
    public void Blackbox_vjp_is_the_interpolation_formula()
    {
        var oracle = new RankingOracle(4);
        const double lambda = 0.7;
        var layer = new BlackboxLayer(oracle, lambda);
        float[] theta = [0.3f, -1f, 2f, 0.1f], g = [1.5f, -2f, 0.2f, 3f];
        var y = new float[4];
        var vjp = new float[4];
        layer.ForwardVjp(theta, g, y, vjp);
        var y0 = new float[4];
        var yl = new float[4];
        oracle.Solve(theta, y0);
        oracle.Solve(theta.Select((t, i) => (float)(t - lambda * g[i])).ToArray(), yl);
        Assert.Equal(y0, y);
        for (int i = 0; i < 4; i++) Assert.Equal((y0[i] - yl[i]) / lambda, vjp[i], 5);
        Assert.Contains(vjp, v => v != 0);
    }

    [Fact]
    public void Identity_with_projection_back_propagates_g_through_the_projections_jacobian()
    {
        const int d = 5;
        var rng = new System.Random(1);
        float[] theta = TestMath.RandomVector(rng, d, 3), g = TestMath.RandomVector(rng, d);
        Layer layer = DifferentiableLayers.IdentityWithProjection(new RankingOracle(d));
        var vjp = new float[d];
        layer.ForwardVjp(theta, g, new float[d], vjp);
        var projections = new SequentialLayer(new PlaneProjection(d), new SphereProjection(d));
        var expected = new float[d];
        projections.ForwardVjp(theta, g, new float[d], expected);
        Assert.Equal(expected, vjp);
    }

    [Fact]
    public void Projected_layers_are_invariant_to_shifting_and_scaling_the_scores()
    {
        const int d = 6;
        var rng = new System.Random(2);
        float[] theta = TestMath.RandomVector(rng, d), g = TestMath.RandomVector(rng, d);
        foreach (Layer layer in new[] { DifferentiableLayers.IdentityWithProjection(new TopKOracle(d, 2)), DifferentiableLayers.Blackbox(new RankingOracle(d), 0.3, ScoreProjection.PlaneThenSphere) })
        {
            (float[] y, float[] v) = Run(layer, theta, g);
            const float a = 8f, c = -3f;
            (float[] ys, float[] vs) = Run(layer, theta.Select(t => a * t + c).ToArray(), g);
            Assert.Equal(y, ys);
            // The sphere's Jacobian scales as 1/‖θ‖: a·(VJP at aθ + c) = VJP at θ.
            for (int i = 0; i < d; i++) Assert.Equal(v[i], a * vs[i], 4);
        }

        static (float[], float[]) Run(Layer layer, float[] theta, float[] g)
        {
            var y = new float[theta.Length];
            var v = new float[theta.Length];
            layer.ForwardVjp(theta, g, y, v);
            return (y, v);
        }
    }

    [Fact]
    public void Repeated_identity_updates_reach_a_solution_with_lower_linearized_loss()
    {
        // Sahoo et al. 2023, Theorem 1 on a toy instance: with a linear loss ⟨c, y⟩ and the update θ ← θ − η Jᵀc, the
        // solver's solution eventually has a lower linear loss than the first one whenever a better solution exists.
        const int d = 5;
        var oracle = new RankingOracle(d);
        var rng = new System.Random(3);
        for (int trial = 0; trial < 20; trial++)
        {
            float[] theta = TestMath.RandomVector(rng, d), c = TestMath.RandomVector(rng, d);
            foreach (Layer layer in new[] { (Layer)new IdentityGradientLayer(oracle), DifferentiableLayers.IdentityWithProjection(oracle) })
            {
                var y = new float[d];
                var v = new float[d];
                layer.Forward(theta, y);
                double first = TestMath.Dot(c, y), best = first;
                var optimum = new float[d];
                oracle.Solve(c.Select(x => -x).ToArray(), optimum);   // argmin ⟨c, y⟩
                double floor = TestMath.Dot(c, optimum);
                float[] th = (float[])theta.Clone();
                for (int step = 0; step < 500 && best > floor + 1e-9; step++)
                {
                    layer.ForwardVjp(th, c, y, v);
                    best = Math.Min(best, TestMath.Dot(c, y));
                    for (int i = 0; i < d; i++) th[i] -= 0.05f * v[i];
                }
                if (first > floor + 1e-9) Assert.True(best < first, $"trial {trial}, {layer.Name}: stuck at {first} (optimum {floor})");
            }
        }
    }

    [Fact]
    public void Spo_plus_is_zero_at_the_truth_nonnegative_and_its_gradient_is_a_subgradient()
    {
        const int d = 5;
        var loss = new SpoPlusLoss(new TopKOracle(d, 2));
        var rng = new System.Random(4);
        for (int trial = 0; trial < 30; trial++)
        {
            float[] s = TestMath.RandomVector(rng, d), theta = TestMath.RandomVector(rng, d), other = TestMath.RandomVector(rng, d);
            var g = new float[d];
            var value = new float[1];
            Assert.Equal(0, loss.Evaluate(s, s, value, g), 5);
            double l = loss.Evaluate(theta, s, value, g);
            Assert.True(l >= -1e-5, $"SPO+ {l} < 0");
            double lOther = loss.Evaluate(other, s, value, new float[d]);
            double linear = l + TestMath.Dot(g, other.Select((o, i) => o - theta[i]).ToArray());
            Assert.True(lOther >= linear - 1e-4, $"convexity: ℓ(θ′) = {lOther} < ℓ(θ) + ⟨g, θ′ − θ⟩ = {linear}");
            // Upper bound on twice the regret... the SPO+ loss is at least the regret ⟨s, y*(s) − y*(θ)⟩.
            var ys = new float[d];
            var yt = new float[d];
            loss.Oracle.Solve(s, ys);
            loss.Oracle.Solve(theta, yt);
            Assert.True(l >= TestMath.Dot(s, ys) - TestMath.Dot(s, yt) - 1e-4);
        }
    }

    [Fact]
    public void Direct_loss_gradient_matches_the_derivative_of_the_expected_loss_by_enumeration()
    {
        // Argmax head, Gumbel noise: E_γ ℓ(y*(μ + σγ)) = Σⱼ softmax(μ/σ)ⱼ ℓⱼ exactly (the enumeration over the d solutions).
        const int d = 3;
        float[] mu = [0.4f, -0.3f, 0.1f];
        const float v = 0.2f;   // σ = softplus(v)
        float[] target = [0, 0, 1];
        LinearLoss task = LinearLosses.ZeroOneSquared;
        var t = new float[d];
        double c = task(target, t);
        double Expected(double[] m, double sigma)
        {
            double max = m.Max(), z = 0, e = 0;
            for (int j = 0; j < d; j++)
            {
                double w = Math.Exp((m[j] - max) / sigma);
                z += w;
                e += w * (t[j] + c);
            }
            return e / z;
        }
        double Sigma(double x) => DirectLossMinimization.Softplus(x);
        double[] m0 = mu.Select(x => (double)x).ToArray();
        const double h = 1e-5;
        var fd = new double[d + 1];
        for (int i = 0; i < d; i++)
        {
            double[] p = (double[])m0.Clone(), q = (double[])m0.Clone();
            p[i] += h;
            q[i] -= h;
            fd[i] = (Expected(p, Sigma(v)) - Expected(q, Sigma(v))) / (2 * h);
        }
        fd[d] = (Expected(m0, Sigma(v + h)) - Expected(m0, Sigma(v - h))) / (2 * h);

        // The estimator averaged over many rows (each row its own noise), with a small ε and no doublings.
        const int rows = 200_000;
        var loss = new DirectLossMinimization(new ArgmaxOracle(d), task, new DirectLossOptions { Epsilon = -0.05, MaxEpsilonDoublings = 0, Seed = 7 });
        var theta = new float[rows * (d + 1)];
        var targets = new float[rows * d];
        for (int r = 0; r < rows; r++)
        {
            mu.CopyTo(theta, r * (d + 1));
            theta[r * (d + 1) + d] = v;
            target.CopyTo(targets, r * d);
        }
        var gradient = new float[theta.Length];
        double meanLoss = loss.Evaluate(theta, targets, new float[rows], gradient);
        Assert.Equal(Expected(m0, Sigma(v)), meanLoss, 2);
        for (int i = 0; i <= d; i++)
        {
            double mean = 0, sq = 0;
            for (int r = 0; r < rows; r++)
            {
                double x = gradient[r * (d + 1) + i];
                mean += x / rows;
                sq += x * x / rows;
            }
            double se = Math.Sqrt((sq - mean * mean) / rows);
            // Monte-Carlo error (5σ) plus the O(ε) bias of the finite difference in ε.
            Assert.True(Math.Abs(mean - fd[i]) <= 5 * se + 0.02, $"∂/∂{(i < d ? $"μ{i}" : "v")}: estimate {mean} ± {se}, derivative {fd[i]}");
        }
    }

    [Fact]
    public void Direct_loss_drops_the_noise_scale_from_the_trained_predictor()
    {
        const int n = 200, p = 4, d = 3;
        var rng = new System.Random(5);
        var x = new float[n * p];
        var y = new float[n * d];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < p; j++) x[r * p + j] = (float)(rng.NextDouble() * 2 - 1) + (j == r % d ? 2f : 0f);
            y[r * d + r % d] = 1;
        }
        IScoreModel model = StructuredTrainer.Fit(new ArgmaxOracle(d), x, y, p, new StructuredTrainerOptions { Loss = StructuredLossKind.DirectLoss, NumberOfIterations = 30, LearningRate = 0.05, Seed = 1 });
        Assert.Equal(d, model.Outputs);
        var theta = new float[n * d];
        model.Score(x, theta);
        int correct = Enumerable.Range(0, n).Count(r => ArgmaxOracle.IndexOfMax(theta.AsSpan(r * d, d)) == r % d);
        Assert.True(correct >= 0.9 * n, $"accuracy {correct / (double)n:P1}");
    }

    [Fact]
    public void Direct_loss_with_a_fixed_zero_noise_scale_is_the_deterministic_finite_difference()
    {
        // σ = 0: the model gives d scores only, and the gradient is (y*(μ + εt) − y*(μ))/ε exactly, whatever the samples.
        const int d = 4;
        var head = new ArgmaxOracle(d);
        var loss = new DirectLossMinimization(head, LinearLosses.ZeroOneSquared, new DirectLossOptions { Epsilon = -0.5, NoiseScale = 0, Samples = 3, MaxEpsilonDoublings = 0 });
        Assert.Equal(d, loss.Dimension);
        Assert.Equal(d, loss.ScoreDimension);
        float[] mu = [0.2f, 0.1f, 0.9f, 0.3f];    // predicts class 2
        float[] target = [0f, 1f, 0f, 0f];        // truth class 1; μ + εt = μ − 0.5(½ − y): class 1 up 0.25, the others down 0.25
        var gradient = new float[d];
        double value = loss.Evaluate(mu, target, new float[1], gradient);
        Assert.Equal(1.0, value, 12);             // ½‖e₂ − e₁‖²
        // y*(μ + εt): scores 0.2−0.25, 0.1+0.25, 0.9−0.25, 0.3−0.25 → still class 2, so the gradient is 0 without growth.
        Assert.All(gradient, g => Assert.Equal(0f, g));

        // With growth 1.1 up to 20 times, |ε| = 0.5·1.1^m grows until class 1 wins: 0.1 + |ε|/2 > 0.9 − |ε|/2, i.e. |ε| > 0.8.
        var growing = new DirectLossMinimization(head, LinearLosses.ZeroOneSquared, new DirectLossOptions { Epsilon = -0.5, NoiseScale = 0, EpsilonGrowth = 1.1, MaxEpsilonDoublings = 20 });
        growing.Evaluate(mu, target, new float[1], gradient);
        int m = 0;
        double eps = 0.5;
        while (!(eps > 0.8)) { eps *= 1.1; m++; }
        // (y*(ε) − y*)/ε with ε = −0.5·1.1^m: +1/|ε| on class 2, −1/|ε| on class 1.
        Assert.Equal((float)(1 / eps), gradient[2], 5);
        Assert.Equal((float)(-1 / eps), gradient[1], 5);
        Assert.Equal(0f, gradient[0]);

        // A prediction already at the target costs nothing: ε does not grow and the gradient stays 0.
        float[] right = [0.2f, 0.95f, 0.9f, 0.3f];
        growing.Evaluate(right, target, new float[1], gradient);
        Assert.All(gradient, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Direct_loss_options_are_checked_by_name()
    {
        var head = new ArgmaxOracle(3);
        Assert.Equal("EpsilonGrowth", Assert.Throws<ArgumentOutOfRangeException>(() => new DirectLossMinimization(head, LinearLosses.ZeroOneSquared, new DirectLossOptions { EpsilonGrowth = 1 })).ParamName);
        Assert.Equal("NoiseScale", Assert.Throws<ArgumentOutOfRangeException>(() => new DirectLossMinimization(head, LinearLosses.ZeroOneSquared, new DirectLossOptions { NoiseScale = -1 })).ParamName);
        Assert.Equal(4, new DirectLossMinimization(head, LinearLosses.ZeroOneSquared).Dimension);   // learned σ: one more output
    }

    [Fact]
    public void Layer_loss_of_the_scores_is_the_squared_error_and_user_losses_train()
    {
        var loss = StructuredLoss.Squared(new ScoresLayer(3));
        var g = new float[3];
        var value = new float[1];
        Assert.Equal(0.5 * (1 + 4 + 0.25), loss.Evaluate([1, 2, 0.5f], [0, 0, 0], value, g), 6);
        Assert.Equal([1, 2, 0.5f], g);
        var user = new LayerLoss(new ScoresLayer(2), (yHat, target, cot) => { cot[0] = 1; cot[1] = 0; return double.NaN; }, "Broken");
        Assert.Contains("row 0", Assert.Throws<InvalidOperationException>(() => user.Evaluate([1, 2], [0, 0], new float[1], new float[2])).Message);
    }

    [Fact]
    public void Mlp_backward_matches_finite_differences_of_the_mean_loss()
    {
        var model = MlpModel.Random(3, [4], 2, seed: 1);
        float[] x = [0.5f, -1f, 0.2f, 1f, 0.3f, -0.7f];
        float[] g = [0.3f, -1f, 2f, 0.5f];   // ∂loss/∂θ of a linear loss ⟨g, θ⟩
        var grad = new double[model.Parameters.Length];
        model.Backward(x, g, l2: 0.1, grad);
        double Loss()
        {
            var th = new float[4];
            model.Score(x, th);
            double l = TestMath.Dot(g, th) / 2;
            var w = model.Layers;
            foreach (AffineModel layer in w) foreach (float wi in layer.Weights) l += 0.05 * wi * wi;
            return l;
        }
        TestMath.AssertFiniteDifferences(model, Loss, grad);
    }
}
