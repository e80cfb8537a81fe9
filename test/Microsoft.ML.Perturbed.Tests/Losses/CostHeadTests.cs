using Microsoft.ML.Perturbed.Evaluation;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Losses;

/// <summary>Cost heads (argmin): every sign-dependent formula reads the oracle's sense once and takes the minimizer's form.</summary>
public class CostHeadTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly DagShortestPathOracle Grid = DagShortestPathOracle.Grid(3, 3);

    [Fact]
    public void Decision_cost_is_the_true_cost_of_the_path_and_its_cotangent_the_costs()
    {
        // The loss of a path is its cost under the true costs; the solver's optimal path has the smallest one.
        var c = new float[Grid.Dimension];
        for (int i = 0; i < c.Length; i++) c[i] = 1 + (i * 7 % 5);
        var best = new float[Grid.Dimension];
        Grid.Solve(c, best);
        var g = new float[Grid.Dimension];
        double value = RowLosses.DecisionCost(best, c, g);
        Assert.Equal(best.Zip(c, (y, ci) => (double)y * ci).Sum(), value, 10);
        Assert.Equal(c, g);
        var other = new float[Grid.Dimension];
        Grid.Solve(c.Select(x => -x).ToArray(), other);   // the most expensive path
        Assert.True(RowLosses.DecisionCost(other, c, g) > value);
    }

    [Fact]
    public void Blackbox_and_identity_take_the_minimizers_form()
    {
        var rng = new System.Random(1);
        float[] w = TestMath.RandomVector(rng, Grid.Dimension), g = TestMath.RandomVector(rng, Grid.Dimension, 3);
        const double lambda = 0.8;
        var vjp = new float[w.Length];
        new BlackboxLayer(Grid, lambda).ForwardVjp(w, g, new float[w.Length], vjp);
        // Vlastelica et al.: w′ = w + λg, ∇ = −(y(w) − y(w′))/λ.
        var y = new float[w.Length];
        var yl = new float[w.Length];
        Grid.Solve(w, y);
        Grid.Solve(w.Select((v, i) => (float)(v + lambda * g[i])).ToArray(), yl);
        for (int i = 0; i < w.Length; i++) Assert.Equal(-(y[i] - yl[i]) / lambda, vjp[i], 5);
        // Sahoo et al.: the identity surrogate of a minimizer is −I.
        var id = new float[w.Length];
        new IdentityGradientLayer(Grid).ForwardVjp(w, g, new float[w.Length], id);
        Assert.Equal(g.Select(v => -v).ToArray(), id);
    }

    [Fact]
    public void Fenchel_young_for_a_cost_head_has_gradient_y_minus_yhat_and_it_is_the_derivative_of_its_value()
    {
        var opt = new PerturbedOptimizer(Grid, new PerturbedOptimizerOptions { Epsilon = 0.3, Samples = 200, Seed = 2 });
        var loss = new FenchelYoungLoss(opt);
        var rng = new System.Random(3);
        float[] c = TestMath.RandomVector(rng, Grid.Dimension).Select(v => Math.Abs(v) + 0.5f).ToArray();
        float[] target = new float[Grid.Dimension];
        Grid.Solve(TestMath.RandomVector(rng, Grid.Dimension).Select(v => Math.Abs(v) + 0.5f).ToArray(), target);
        var g = new float[c.Length];
        var value = new float[1];
        loss.Evaluate(c, target, value, g, draw: 5);
        var yHat = new float[c.Length];
        opt.Forward(c, yHat, draw: 5);
        for (int i = 0; i < c.Length; i++) Assert.Equal(target[i] - yHat[i], g[i], 5);
        // Danskin with common random numbers: the value is piecewise linear per sample, so central differences are exact.
        float[] t = TestMath.RandomVector(rng, c.Length);
        const float h = 1e-3f;
        double Value(float sign)
        {
            var v = new float[1];
            loss.Evaluate(c.Select((x, i) => x + sign * h * t[i]).ToArray(), target, v, new float[c.Length], draw: 5);
            return v[0];
        }
        Assert.Equal(TestMath.Dot(g, t), (Value(1) - Value(-1)) / (2 * h), 2);
    }

    [Fact]
    public void Spo_plus_for_a_cost_head_is_the_papers_form()
    {
        var loss = new SpoPlusLoss(Grid);
        var rng = new System.Random(4);
        for (int trial = 0; trial < 20; trial++)
        {
            float[] c = TestMath.RandomVector(rng, Grid.Dimension).Select(v => Math.Abs(v)).ToArray(), cHat = TestMath.RandomVector(rng, Grid.Dimension);
            var g = new float[c.Length];
            var value = new float[1];
            Assert.Equal(0, loss.Evaluate(c, c, value, g), 5);
            double l = loss.Evaluate(cHat, c, value, g);
            // ℓ = −min_w (2ĉ − c)ᵀw + 2ĉᵀw*(c) − z*(c), ∇ = 2(w*(c) − w*(2ĉ − c)).
            var wStar = new float[c.Length];
            var w2 = new float[c.Length];
            Grid.Solve(c, wStar);
            float[] u = cHat.Select((v, i) => 2 * v - c[i]).ToArray();
            Grid.Solve(u, w2);
            double expected = -TestMath.Dot(u, w2) + 2 * TestMath.Dot(cHat, wStar) - TestMath.Dot(c, wStar);
            Assert.Equal(expected, l, 4);
            for (int i = 0; i < c.Length; i++) Assert.Equal(2 * (wStar[i] - w2[i]), g[i], 5);
            Assert.True(l >= DecisionMetrics.Evaluate(Grid, cHat, c).Regret - 1e-4);
        }
    }

    [Fact]
    public void Regret_metrics_on_a_hand_made_case()
    {
        // 2 × 2 PyEPO grid: arcs 0: 0→1 (east), 1: 0→2 (south), 2: 1→3 (south), 3: 2→3 (east). Two paths: {0, 2} and {1, 3}.
        var grid = DagShortestPathOracle.Grid(2, 2);
        Assert.Equal((0, 1), grid.Edge(0));
        Assert.Equal((0, 2), grid.Edge(1));
        Assert.Equal((1, 3), grid.Edge(2));
        Assert.Equal((2, 3), grid.Edge(3));
        float[] truth = [1, 2, 1, 2,   1, 2, 1, 2];       // optimum {0, 2}: cost 2 (both rows)
        float[] predicted = [1, 2, 1, 2,   3, 0, 3, 0];   // row 0 right; row 1 picks {1, 3}: true cost 4, regret 2
        DecisionMetrics m = DecisionMetrics.Evaluate(grid, predicted, truth);
        Assert.Equal(1.0, m.Regret, 10);
        Assert.Equal(2.0 / 4.0, m.NormalizedRegret, 10);
        Assert.Equal(0.5, m.ExactSolutionRate, 10);
        Assert.Equal(6.0 / 4.0, m.ObjectiveRatio, 10);
        // A score head: regret is the optimum minus what the decision earns.
        DecisionMetrics top = DecisionMetrics.Evaluate(new TopKOracle(3, 1), [0, 1, 0], [5, 1, 2]);
        Assert.Equal(4.0, top.Regret, 10);
        Assert.Equal(0.8, top.NormalizedRegret, 10);
    }

    [Theory]
    [InlineData(StructuredLossKind.FenchelYoung, false)]
    [InlineData(StructuredLossKind.SpoPlus, true)]
    [InlineData(StructuredLossKind.IdentityWithProjection, false)]
    [InlineData(StructuredLossKind.Blackbox, false)]
    [InlineData(StructuredLossKind.DirectLoss, false)]
    public void Decision_focused_training_on_pyepo_shortest_paths_lowers_the_regret(StructuredLossKind kind, bool costsAsTargets)
    {
        var head = DagShortestPathOracle.Grid(5, 5);
        const int p = 5;
        (float[] x, float[] c) = DecisionData.ShortestPath(600, p, degree: 2, noise: 0.5, seed: 1);
        int nTrain = 400, d = head.Dimension;
        float[] xTrain = x[..(nTrain * p)], cTrain = c[..(nTrain * d)], xTest = x[(nTrain * p)..], cTest = c[(nTrain * d)..];
        var paths = new float[nTrain * d];
        head.Solve(cTrain, paths);
        IScoreModel model = StructuredTrainer.Fit(head, xTrain, costsAsTargets ? cTrain : paths, p, new StructuredTrainerOptions
        {
            Loss = kind, NumberOfIterations = 10, LearningRate = 0.05, Epsilon = 0.5, Samples = 1, Seed = 3, BlackboxLambda = 10,
            Projection = ScoreProjection.None,   // path solutions vary in length and costs have a scale: no projection
        });
        var cHat = new float[cTest.Length];
        model.Score(xTest, cHat);
        double regret = DecisionMetrics.Evaluate(head, cHat, cTest).NormalizedRegret;
        // Reference points: the true costs have regret 0; a constant prediction (all arcs equal) picks one fixed path.
        double constant = DecisionMetrics.Evaluate(head, Enumerable.Repeat(1f, cTest.Length).ToArray(), cTest).NormalizedRegret;
        output.WriteLine($"{kind}: normalized regret {regret:P2}, constant prediction {constant:P2}");
        Assert.True(regret < 0.6 * constant && regret < 0.25, $"{kind}: normalized regret {regret:P1} (constant prediction {constant:P1})");
    }
}
