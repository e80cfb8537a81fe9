using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// Builds the differentiable solver layers of the literature from an oracle, each with its optional margin noise and
/// projections in front (docs/architecture.md, "Layers"): blackbox interpolation and identity with projection
/// (the perturbed optimizer is <see cref="PerturbedOptimizer"/> itself).
/// </summary>
public static class DifferentiableLayers
{
    /// <summary>
    /// Layers applied one after the other, f = fₖ ∘ … ∘ f₁, with the chain rule on the way back: the VJP runs the forward
    /// pass keeping every intermediate, asks the last layer for its VJP (with the caller's cotangent or cotangent function,
    /// so a perturbed last layer reuses its samples), then carries Jᵀg back through the earlier layers. Every layer gets
    /// the same draw, so Monte-Carlo layers inside see the same noise in the forward and backward passes.
    /// </summary>
    /// <param name="layers">The layers, first applied first; each layer's input length must be the previous one's output length.</param>
    /// <exception cref="ArgumentException">No layer, a null layer, or a layer whose input length differs from the previous one's output length (the message names both).</exception>
    public static Layer Sequential(params Layer[] layers) => new SequentialLayer(layers);

    /// <summary>
    /// Blackbox interpolation (Vlastelica et al. 2020) after the projections: y*(P(θ)), backward
    /// J_Pᵀ (y*(P θ) − y*(P θ − λg))/λ. With <see cref="ScoreProjection.Sphere"/> in <paramref name="projection"/>, λ is
    /// relative to unit-norm scores.
    /// </summary>
    /// <param name="oracle">The solver (d′ = d).</param>
    /// <param name="lambda">Interpolation step λ &gt; 0.</param>
    /// <param name="projection">Projections before the solver; default none (the paper's blackbox).</param>
    /// <param name="margin">Margin noise α ≥ 0 before the projections; default 0 (none).</param>
    /// <param name="seed">Seed of the margin noise.</param>
    /// <param name="maxDegreeOfParallelism">Most threads every layer of the chain uses; −1 (default) every core.</param>
    public static Layer Blackbox(Oracle oracle, double lambda, ScoreProjection projection = ScoreProjection.None, double margin = 0, int seed = 0,
        int maxDegreeOfParallelism = -1)
        => Compose(oracle, new BlackboxLayer(oracle, lambda) { MaxDegreeOfParallelism = maxDegreeOfParallelism }, projection, margin, seed, maxDegreeOfParallelism);

    /// <summary>
    /// Identity with projection (Sahoo et al. 2023): y*(P(θ + ξ)), backward J_Pᵀ g (the identity surrogate for our
    /// maximizing oracles) through the projections.
    /// </summary>
    /// <param name="oracle">The solver (d′ = d).</param>
    /// <param name="projection">Projections before the solver; default P_sphere ∘ P_plane (the paper's choice for ranking and top-k).</param>
    /// <param name="margin">Margin noise α ≥ 0 before the projections; default 0 (none).</param>
    /// <param name="seed">Seed of the margin noise.</param>
    /// <param name="maxDegreeOfParallelism">Most threads every layer of the chain uses; −1 (default) every core.</param>
    public static Layer IdentityWithProjection(Oracle oracle, ScoreProjection projection = ScoreProjection.PlaneThenSphere, double margin = 0, int seed = 0,
        int maxDegreeOfParallelism = -1)
        => Compose(oracle, new IdentityGradientLayer(oracle) { MaxDegreeOfParallelism = maxDegreeOfParallelism }, projection, margin, seed, maxDegreeOfParallelism);

    /// <summary>The projection layers of <paramref name="projection"/> for rows of <paramref name="dimension"/>, in the order they run.</summary>
    /// <param name="dimension">Row length.</param>
    /// <param name="projection">Which projections.</param>
    /// <param name="maxDegreeOfParallelism">Most threads each layer uses; −1 (default) every core.</param>
    public static Layer[] Projections(int dimension, ScoreProjection projection, int maxDegreeOfParallelism = -1) => projection switch
    {
        ScoreProjection.None => [],
        ScoreProjection.Plane => [new PlaneProjection(dimension) { MaxDegreeOfParallelism = maxDegreeOfParallelism }],
        ScoreProjection.Sphere => [new SphereProjection(dimension) { MaxDegreeOfParallelism = maxDegreeOfParallelism }],
        ScoreProjection.PlaneThenSphere => [new PlaneProjection(dimension) { MaxDegreeOfParallelism = maxDegreeOfParallelism }, new SphereProjection(dimension) { MaxDegreeOfParallelism = maxDegreeOfParallelism }],
        _ => throw new ArgumentOutOfRangeException(nameof(projection), projection, "Unknown score projection."),
    };

    private static Layer Compose(Oracle oracle, Layer solver, ScoreProjection projection, double margin, int seed, int maxDegreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        var layers = new List<Layer>();
        if (margin > 0 || !(margin >= 0)) layers.Add(new MarginNoise(oracle.Dimension, margin, seed) { MaxDegreeOfParallelism = maxDegreeOfParallelism });   // MarginNoise checks α
        layers.AddRange(Projections(oracle.Dimension, projection, maxDegreeOfParallelism));
        if (layers.Count == 0) return solver;
        layers.Add(solver);
        return new SequentialLayer([.. layers]);
    }
}
