namespace Microsoft.ML.Perturbed.Evaluation;

/// <summary>Synthetic decision-focused-learning data sets, generated the way the reference benchmarks generate them.</summary>
public static class DecisionData
{
    /// <summary>
    /// PyEPO's shortest-path data (Tang &amp; Khalil): a fixed B ~ Bernoulli(0.5)^{E×p}, features x ~ N(0, I_p) and edge costs
    /// c_e = [((B x)_e/√p + 3)^deg + 1]/3.5^deg · U(1 − ε̄, 1 + ε̄) for the E = rows·(columns − 1) + (rows − 1)·columns arcs of
    /// <see cref="Oracles.DagShortestPathOracle.Grid"/> (40 for the 5 × 5 grid). Deterministic for a seed.
    /// </summary>
    /// <param name="n">Instances.</param>
    /// <param name="features">p.</param>
    /// <param name="degree">Polynomial degree of the cost model (PyEPO: 1, 2, 4, 6).</param>
    /// <param name="noise">Multiplicative noise half-width ε̄ ∈ [0, 1) (PyEPO: 0 or 0.5).</param>
    /// <param name="seed">Seed.</param>
    /// <param name="rows">Grid rows (default 5).</param>
    /// <param name="columns">Grid columns (default 5).</param>
    /// <returns>Features <c>[n × p]</c> and costs <c>[n × E]</c>.</returns>
    public static (float[] Features, float[] Costs) ShortestPath(int n, int features, int degree, double noise, int seed, int rows = 5, int columns = 5)
    {
        Guard.Positive(n, nameof(n));
        Guard.Positive(features, nameof(features));
        Guard.Positive(degree, nameof(degree));
        if (!(noise >= 0 && noise < 1)) throw new ArgumentOutOfRangeException(nameof(noise), noise, $"'{nameof(noise)}' must be in [0, 1), got {noise}.");
        int arcs = Oracles.DagShortestPathOracle.Grid(rows, columns).Dimension, p = features;
        var rng = new System.Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var b = new int[arcs * p];
        for (int i = 0; i < b.Length; i++) b[i] = rng.Next(2);
        var x = new float[n * p];
        var c = new float[n * arcs];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < p; j++) x[r * p + j] = (float)Normal();
            for (int a = 0; a < arcs; a++)
            {
                double bx = 0;
                for (int j = 0; j < p; j++) bx += b[a * p + j] * x[r * p + j];
                double value = (Math.Pow(bx / Math.Sqrt(p) + 3, degree) + 1) / Math.Pow(3.5, degree);
                c[r * arcs + a] = (float)(value * (1 - noise + 2 * noise * rng.NextDouble()));
            }
        }
        return (x, c);
    }
}
