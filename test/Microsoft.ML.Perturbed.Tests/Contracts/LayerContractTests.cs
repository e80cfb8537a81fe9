using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Tests.Contracts;

/// <summary>How a layer's derivative is checked by the contract.</summary>
public enum DerivativeCheck
{
    /// <summary>Smooth (or piecewise smooth) and deterministic given the draw: VJP and JVP against central finite differences.</summary>
    FiniteDifferences,

    /// <summary>A Monte-Carlo estimator whose derivative is not that of its own output (score function): adjointness only.</summary>
    Estimator,

    /// <summary>A surrogate backward (blackbox, identity): checked against its formula by the layer's own tests; adjointness where a JVP exists.</summary>
    Surrogate,
}

/// <summary>A layer registered in the contract: a factory over the thread count, and how to check its derivative.</summary>
public sealed record LayerCase(string Name, Func<int, Layer> Create, DerivativeCheck Check, double InputScale = 1)
{
    public override string ToString() => Name;
}

/// <summary>
/// The contract every layer gets for free (docs/architecture.md, "Contract tests"): derivatives, ⟨Jt, g⟩ = ⟨t, Jᵀg⟩,
/// a row does not depend on the other rows of its batch, bit-identical results on one and all threads, bad input named.
/// Register a new layer in <see cref="Layers"/>.
/// </summary>
public class LayerContractTests
{
    private const int D = 5;

    public static TheoryData<LayerCase> Layers()
    {
        var data = new TheoryData<LayerCase>();
        PerturbedOptimizerOptions Perturbed(int threads, NoiseDistribution noise) => new() { Epsilon = 0.5, Samples = 64, Noise = noise, Seed = 3, MaxDegreeOfParallelism = threads };
        data.Add(new LayerCase("PerturbedRanking/Normal", t => new PerturbedOptimizer(new RankingOracle(D), Perturbed(t, NoiseDistribution.Normal)), DerivativeCheck.Estimator));
        data.Add(new LayerCase("PerturbedArgmax/Gumbel", t => new PerturbedOptimizer(new ArgmaxOracle(D), Perturbed(t, NoiseDistribution.Gumbel)), DerivativeCheck.Estimator));
        data.Add(new LayerCase("PerturbedTopK/Multiplicative", t => new PerturbedOptimizer(new TopKOracle(D, 2), new PerturbedOptimizerOptions
        {
            Epsilon = 0.3, Samples = 32, Perturbation = PerturbationKind.Multiplicative, Seed = 1, MaxDegreeOfParallelism = t,
        }), DerivativeCheck.Estimator, InputScale: -1));   // −1: positive inputs
        data.Add(new LayerCase("SoftRank/L2", t => new SoftRank(D, 0.7) { MaxDegreeOfParallelism = t }, DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("SoftRank/KL", t => new SoftRank(D, 0.7, SoftRegularization.KL) { MaxDegreeOfParallelism = t }, DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("SoftSort/L2/Descending", t => new SoftSort(D, 0.7, SoftRegularization.L2, SortDirection.Descending) { MaxDegreeOfParallelism = t }, DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("SoftSort/KL", t => new SoftSort(D, 0.7, SoftRegularization.KL) { MaxDegreeOfParallelism = t }, DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("SoftQuantileNormalization/L2", t => new SoftQuantileNormalization([-1.0, -0.2, 0.1, 0.5, 2.0], 0.5) { MaxDegreeOfParallelism = t }, DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("Sinkhorn/Rank", t => new SinkhornSorting(D, new SinkhornOptions { Epsilon = 0.1, MaxDegreeOfParallelism = t }), DerivativeCheck.FiniteDifferences));
        // Stopped at the cap after one iteration: the barycentric read-out (rows by their own mass) and its VJP.
        data.Add(new LayerCase("Sinkhorn/Rank/Capped", t => new SinkhornSorting(D, new SinkhornOptions { Epsilon = 0.1, MaxIterations = 1, MaxDegreeOfParallelism = t }), DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("Sinkhorn/Sort/Capped", t => new SinkhornSorting(D, new SinkhornOptions { Output = SinkhornOutput.Sort, Epsilon = 0.1, MaxIterations = 2, MaxDegreeOfParallelism = t }), DerivativeCheck.FiniteDifferences));
        // Implicit VJPs (the converged plan's derivative, so a tight tolerance), n ≠ m both ways; and a capped row, unrolled instead.
        data.Add(new LayerCase("Sinkhorn/Rank/Implicit", t => new SinkhornSorting(D, new SinkhornOptions { Epsilon = 0.1, Targets = 3, Tolerance = 1e-10, ImplicitDifferentiation = true, MaxDegreeOfParallelism = t }), DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("Sinkhorn/Sort/Implicit/Descending", t => new SinkhornSorting(D, new SinkhornOptions { Output = SinkhornOutput.Sort, Direction = SortDirection.Descending, Epsilon = 0.1, Targets = 7, Tolerance = 1e-10, ImplicitDifferentiation = true, MaxDegreeOfParallelism = t }), DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("Sinkhorn/QuantileNormalize/Implicit", t => new SinkhornSorting(D, new SinkhornOptions { Output = SinkhornOutput.QuantileNormalize, TargetValues = [-1, 0, 0.5, 2], Epsilon = 0.1, Targets = 4, Tolerance = 1e-10, ImplicitDifferentiation = true, MaxDegreeOfParallelism = t }), DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("Sinkhorn/Quantile/Implicit", t => new SinkhornSorting(D, new SinkhornOptions { Output = SinkhornOutput.Quantile, Epsilon = 0.1, Tolerance = 1e-10, ImplicitDifferentiation = true, MaxDegreeOfParallelism = t }), DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("Sinkhorn/Cdf/Implicit/Capped", t => new SinkhornSorting(D, new SinkhornOptions { Output = SinkhornOutput.Cdf, Epsilon = 0.1, MaxIterations = 2, ImplicitDifferentiation = true, MaxDegreeOfParallelism = t }), DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("PerturbedSorting/Rank", t => new PerturbedSorting(D, false, SortDirection.Ascending, Perturbed(t, NoiseDistribution.Normal)), DerivativeCheck.Estimator));
        data.Add(new LayerCase("PerturbedSorting/Rank/Descending", t => new PerturbedSorting(D, false, SortDirection.Descending, Perturbed(t, NoiseDistribution.Normal)), DerivativeCheck.Estimator));
        data.Add(new LayerCase("PerturbedSorting/Sort/Descending", t => new PerturbedSorting(D, true, SortDirection.Descending, Perturbed(t, NoiseDistribution.Gumbel)), DerivativeCheck.Estimator));
        data.Add(new LayerCase("PlaneProjection", t => new PlaneProjection(D) { MaxDegreeOfParallelism = t }, DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("SphereProjection", t => new SphereProjection(D) { MaxDegreeOfParallelism = t }, DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("MarginNoise", t => new MarginNoise(D, 0.3, seed: 5) { MaxDegreeOfParallelism = t }, DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("Scores", t => new ScoresLayer(D) { MaxDegreeOfParallelism = t }, DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("Plane→Sphere", t => new SequentialLayer(new PlaneProjection(D) { MaxDegreeOfParallelism = t }, new SphereProjection(D) { MaxDegreeOfParallelism = t }), DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("Sphere→SoftRank", t => new SequentialLayer(new SphereProjection(D) { MaxDegreeOfParallelism = t }, new SoftRank(D, 0.2) { MaxDegreeOfParallelism = t }), DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("Solver(Ranking)", t => new SolverLayer(new RankingOracle(D)) { MaxDegreeOfParallelism = t }, DerivativeCheck.FiniteDifferences));
        data.Add(new LayerCase("Blackbox(Ranking)", t => DifferentiableLayers.Blackbox(new RankingOracle(D), 0.5), DerivativeCheck.Surrogate));
        data.Add(new LayerCase("Blackbox(TopK)+projections", t => DifferentiableLayers.Blackbox(new TopKOracle(D, 2), 0.2, ScoreProjection.PlaneThenSphere), DerivativeCheck.Surrogate));
        data.Add(new LayerCase("Identity(Ranking)+projections+margin", t => DifferentiableLayers.IdentityWithProjection(new RankingOracle(D), margin: 0.1, seed: 2), DerivativeCheck.Surrogate));
        data.Add(new LayerCase("ImplicitMle(TopK)/SumOfGamma", t => new ImplicitMleLayer(new TopKOracle(D, 2), 0.5, 0.5, 8, SumOfGammaNoise.Default, seed: 3) { MaxDegreeOfParallelism = t }, DerivativeCheck.Surrogate));
        data.Add(new LayerCase("ImplicitMle(cheapest pair, minimizing)/Normal", t => new ImplicitMleLayer(Oracle.Create(D, D, (c, y) =>
        {
            int best = 0;
            for (int i = 1; i < D - 1; i++) if (c[i] + c[i + 1] < c[best] + c[best + 1]) best = i;
            y[best] = y[best + 1] = 1;
        }, "CheapestPair", OptimizationSense.Minimize), 2, 0.5, 8, NoiseDistribution.Normal, seed: 4) { MaxDegreeOfParallelism = t }, DerivativeCheck.Surrogate));
        data.Add(new LayerCase("Identity(user oracle)", t => new IdentityGradientLayer(Oracle.Create(D, D, (th, y) => { for (int i = 0; i < D; i++) y[i] = th[i] > 0 ? 1 : 0; }, "Sign")) { MaxDegreeOfParallelism = t }, DerivativeCheck.Surrogate));
        return data;
    }

    private static float[] Input(LayerCase c, int batch, int seed)
    {
        var rng = new System.Random(seed);
        float[] x = TestMath.RandomVector(rng, batch * D, 2);
        if (c.InputScale < 0) for (int i = 0; i < x.Length; i++) x[i] = 0.5f + Math.Abs(x[i]);
        return x;
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Vjp_matches_finite_differences(LayerCase c)
    {
        if (c.Check != DerivativeCheck.FiniteDifferences) return;
        Layer layer = c.Create(-1);
        const int batch = 3;
        float[] theta = Input(c, batch, 1);
        float[] g = TestMath.RandomVector(new System.Random(2), batch * layer.OutputDimension);
        var vjp = new float[theta.Length];
        layer.ForwardVjp(theta, g, new float[g.Length], vjp, draw: 7);
        // d/dh ⟨g, f(θ + h eᵢ)⟩ by central differences, same draw (common random numbers).
        const float h = 1e-3f;
        var plus = new float[g.Length];
        var minus = new float[g.Length];
        for (int i = 0; i < theta.Length; i++)
        {
            float[] tp = (float[])theta.Clone(), tm = (float[])theta.Clone();
            tp[i] += h;
            tm[i] -= h;
            layer.Forward(tp, plus, 7);
            layer.Forward(tm, minus, 7);
            double fd = (TestMath.Dot(g, plus) - TestMath.Dot(g, minus)) / (tp[i] - tm[i]);
            Assert.True(Math.Abs(fd - vjp[i]) <= 2e-2 * (1 + Math.Abs(fd)), $"{c}: ∂/∂θ[{i}] FD {fd} vs VJP {vjp[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Jvp_and_vjp_are_adjoint(LayerCase c)
    {
        Layer layer = c.Create(-1);
        if (!layer.HasJvp)
        {
            Assert.Throws<NotSupportedException>(() => layer.ForwardJvp(new float[D], new float[D], new float[layer.OutputDimension], new float[layer.OutputDimension]));
            return;
        }
        const int batch = 4;
        float[] theta = Input(c, batch, 3);
        float[] t = TestMath.RandomVector(new System.Random(4), theta.Length);
        float[] g = TestMath.RandomVector(new System.Random(5), batch * layer.OutputDimension);
        var jt = new float[g.Length];
        var jg = new float[theta.Length];
        var y1 = new float[g.Length];
        var y2 = new float[g.Length];
        layer.ForwardJvp(theta, t, y1, jt, draw: 2);
        layer.ForwardVjp(theta, g, y2, jg, draw: 2);
        Assert.Equal(y1, y2);
        double left = TestMath.Dot(jt, g), right = TestMath.Dot(t, jg);
        Assert.True(Math.Abs(left - right) <= 1e-4 * (1 + Math.Abs(left)), $"{c}: ⟨Jt, g⟩ = {left}, ⟨t, Jᵀg⟩ = {right}");
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void A_row_does_not_depend_on_the_rest_of_its_batch(LayerCase c)
    {
        Layer layer = c.Create(-1);
        const int batch = 4;
        float[] a = Input(c, batch, 6), b = Input(c, batch, 7);
        a.AsSpan(2 * D, D).CopyTo(b.AsSpan(2 * D, D));   // row 2 equal, the others differ
        float[] g = TestMath.RandomVector(new System.Random(8), batch * layer.OutputDimension);
        (float[] ya, float[] va) = Vjp(layer, a, g, 9);
        (float[] yb, float[] vb) = Vjp(layer, b, g, 9);
        int o = layer.OutputDimension;
        Assert.Equal(ya.AsSpan(2 * o, o).ToArray(), yb.AsSpan(2 * o, o).ToArray());
        Assert.Equal(va.AsSpan(2 * D, D).ToArray(), vb.AsSpan(2 * D, D).ToArray());
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Same_bits_on_one_and_all_threads_and_forward_agrees_with_vjp(LayerCase c)
    {
        const int batch = 64;
        float[] theta = Input(c, batch, 10);
        Layer one = c.Create(1), all = c.Create(-1);
        float[] g = TestMath.RandomVector(new System.Random(11), batch * one.OutputDimension);
        (float[] y1, float[] v1) = Vjp(one, theta, g, 3);
        (float[] y2, float[] v2) = Vjp(all, theta, g, 3);
        Assert.Equal(y1, y2);
        Assert.Equal(v1, v2);
        var forward = new float[y1.Length];
        all.Forward(theta, forward, 3);
        Assert.Equal(y1, forward);
        // The cotangent-function VJP gives the same as the explicit one for a g that does not depend on ŷ.
        var viaFunction = new float[theta.Length];
        int o = one.OutputDimension;
        all.ForwardVjp(theta, (row, _, gr) => g.AsSpan(row * o, o).CopyTo(gr), new float[y1.Length], viaFunction, 3);
        Assert.Equal(v2, viaFunction);
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void The_draw_selects_the_noise_of_a_stochastic_layer_and_nothing_else(LayerCase c)
    {
        Layer layer = c.Create(-1);
        float[] theta = Input(c, 3, 21);
        int n = 3 * layer.OutputDimension;
        float[] g = TestMath.RandomVector(new System.Random(22), n);
        (float[] y5, float[] v5) = Vjp(layer, theta, g, 5);
        (float[] again, float[] vAgain) = Vjp(layer, theta, g, 5);
        (float[] y6, float[] v6) = Vjp(layer, theta, g, 6);
        Assert.Equal(y5, again);
        Assert.Equal(v5, vAgain);
        // A training loop passes a new draw at every step: a stochastic layer must draw new noise for it (a perturbed
        // sorting layer that reused draw 0 would see the same noise at every step); a deterministic one ignores it.
        if (c.Check == DerivativeCheck.Estimator) Assert.True(layer.IsStochastic, $"{c} is a Monte-Carlo estimator and must say it is stochastic");
        if (layer.IsStochastic) Assert.False(y5.SequenceEqual(y6) && v5.SequenceEqual(v6), $"{c}: draws 5 and 6 gave the same result");
        else Assert.True(y5.SequenceEqual(y6) && v5.SequenceEqual(v6), $"{c}: a deterministic layer's result depends on the draw");
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Bad_input_is_named(LayerCase c)
    {
        Layer layer = c.Create(-1);
        int o = layer.OutputDimension;
        float[] theta = Input(c, 2, 12);
        theta[D + 3] = float.NaN;
        var e = Assert.ThrowsAny<ArgumentException>(() => layer.Forward(theta, new float[2 * o]));
        Assert.Equal("theta", e.ParamName);
        Assert.Contains("row 1, column 3", e.Message);
        Assert.Equal("theta", Assert.ThrowsAny<ArgumentException>(() => layer.Forward(new float[D + 1], new float[2 * o])).ParamName);
        Assert.Equal("solution", Assert.ThrowsAny<ArgumentException>(() => layer.Forward(Input(c, 2, 13), new float[2 * o - 1])).ParamName);
        Assert.Equal("cotangent", Assert.ThrowsAny<ArgumentException>(() => layer.ForwardVjp(Input(c, 2, 13), new float[o], new float[2 * o], new float[2 * D])).ParamName);
        Assert.Equal("vjp", Assert.ThrowsAny<ArgumentException>(() => layer.ForwardVjp(Input(c, 2, 13), new float[2 * o], new float[2 * o], new float[D])).ParamName);
        var bad = Assert.ThrowsAny<ArgumentException>(() => layer.ForwardVjp(Input(c, 4, 13), (row, _, g) => g.Fill(row == 3 ? float.NaN : 0), new float[4 * o], new float[4 * D]));
        Assert.Contains("row 3", bad.Message);
    }

    private static (float[] Y, float[] Vjp) Vjp(Layer layer, float[] theta, float[] g, ulong draw)
    {
        var y = new float[g.Length];
        var v = new float[theta.Length];
        layer.ForwardVjp(theta, g, y, v, draw);
        return (y, v);
    }
}
