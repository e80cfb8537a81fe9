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

    /// <summary>PyEPO's knapsack capacity, 20 per dimension, in the hundredths that <see cref="Knapsack"/> gives the weights in: 2000.</summary>
    public const int KnapsackCapacity = 2000;

    /// <summary>
    /// PyEPO's knapsack data (Tang &amp; Khalil, <c>pyepo.data.knapsack.genData</c>): item weights drawn once, uniform over
    /// 3.00, 3.01, …, 7.99 per dimension and item (returned in hundredths, 300–799, so that the capacity 20 is
    /// <see cref="KnapsackCapacity"/> and the weights are the integers <see cref="Oracles.Oracle.MultidimensionalKnapsack"/>
    /// takes); a fixed B ~ Bernoulli(0.5)^{items×p}; features x ~ N(0, I_p); item values
    /// c_i = ⌈5·[((B x)_i/√p + 3)^deg + 1]/3.5^deg · U(1 − ε̄, 1 + ε̄)⌉, positive integers, to be maximized. Deterministic
    /// for a seed (System.Random, not numpy's stream: the same distribution, not PyEPO's numbers).
    /// </summary>
    /// <param name="n">Instances.</param>
    /// <param name="features">p (PyEPO: 5).</param>
    /// <param name="degree">Polynomial degree of the value model (PyEPO: 1, 2, 4, 6).</param>
    /// <param name="noise">Multiplicative noise half-width ε̄ ∈ [0, 1) (PyEPO: 0 or 0.5).</param>
    /// <param name="seed">Seed.</param>
    /// <param name="items">Items (default 32, as PyEPO's experiments).</param>
    /// <param name="dimensions">Resource dimensions (default 2).</param>
    /// <returns>Weights <c>[dimensions][items]</c> in hundredths, features <c>[n × p]</c> and values <c>[n × items]</c>.</returns>
    public static (int[][] Weights, float[] Features, float[] Values) Knapsack(int n, int features, int degree, double noise, int seed, int items = 32, int dimensions = 2)
    {
        Guard.Positive(n, nameof(n));
        Guard.Positive(features, nameof(features));
        Guard.Positive(degree, nameof(degree));
        Guard.Positive(items, nameof(items));
        Guard.Positive(dimensions, nameof(dimensions));
        if (!(noise >= 0 && noise < 1)) throw new ArgumentOutOfRangeException(nameof(noise), noise, $"'{nameof(noise)}' must be in [0, 1), got {noise}.");
        int p = features;
        var rng = new System.Random(seed);
        var weights = new int[dimensions][];
        for (int j = 0; j < dimensions; j++)
        {
            weights[j] = new int[items];
            for (int i = 0; i < items; i++) weights[j][i] = rng.Next(300, 800);
        }
        var b = new int[items * p];
        for (int i = 0; i < b.Length; i++) b[i] = rng.Next(2);
        var x = new float[n * p];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        var c = new float[n * items];
        for (int r = 0; r < n; r++)
        {
            for (int i = 0; i < items; i++)
            {
                double bx = 0;
                for (int j = 0; j < p; j++) bx += b[i * p + j] * x[r * p + j];
                double value = 5 * (Math.Pow(bx / Math.Sqrt(p) + 3, degree) + 1) / Math.Pow(3.5, degree);
                c[r * items + i] = (float)Math.Ceiling(value * (1 - noise + 2 * noise * rng.NextDouble()));
            }
        }
        return (weights, x, c);
    }
}
