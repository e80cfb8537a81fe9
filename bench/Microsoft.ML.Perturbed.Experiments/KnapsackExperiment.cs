using Microsoft.ML.Perturbed.Evaluation;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// PyEPO's two-dimensional knapsack benchmark under the shared regret protocol (<see cref="RegretExperiment"/>): 32 items,
/// two resources of capacity 20, weights uniform over 3.00–7.99 drawn once per data set (in hundredths, capacity 2000),
/// integer values from PyEPO's generator (<see cref="DecisionData.Knapsack"/>), maximized by the exact
/// <see cref="Oracle.MultidimensionalKnapsack"/>; 1000 test instances.
/// </summary>
public static class KnapsackExperiment
{
    /// <summary>The benchmark as the shared protocol runs it: each data set (seed) draws its weights, so its own oracle.</summary>
    public static RegretExperiment.Problem Problem { get; } = new(
        "knapsack", "2-D knapsack",
        (n, deg, noise, seed) =>
        {
            (int[][] weights, float[] x, float[] c) = DecisionData.Knapsack(n, 5, deg, noise, seed);
            return (Oracle.MultidimensionalKnapsack(weights, [DecisionData.KnapsackCapacity, DecisionData.KnapsackCapacity]), x, c);
        },
        (deg, noise, seed) => 500_000 + 1000 * deg + 10 * seed + (noise > 0 ? 1 : 0),
        "Two-dimensional knapsack, the PyEPO benchmark",
        [
            "Normalized test regret (mean ± std over seeds; see RegretExperiment for the protocol and the methods' settings): 32 items, two",
            "resources of capacity 20, weights 3.00–7.99 (drawn per data set) and integer values from PyEPO's generator",
            "(DecisionData.Knapsack), maximized exactly (Oracle.MultidimensionalKnapsack: branch and bound, dynamic programming over the",
            "capacities for the rows it does not settle in 2¹⁵ nodes; the same packings either way). PyEPO publishes this",
            "benchmark as figures only: no numbers to copy. Settings as the shortest path: Adam, batch 32, lr 1e-2 (DBB 1e-1; DBB and NID",
            "back-propagate −⟨ŷ, values⟩); PFYL ε 1, M 1; DBB λ 20; I-MLE σ 1, M 10, Sum-of-Gamma, L1 loss, λ 10 (10/(32·32) per row);",
            "NCE, CMAP, LTR solve ratio 0.05, pool seeded with the training solutions; zero initial weights (pairwise LTR: N(0, 0.01²)).",
        ],
        new Dictionary<string, double>());

    /// <summary>Runs the grid (or its quick version), writes the table and figure, returns the cells.</summary>
    public static IReadOnlyList<RegretCell> Run(bool quick, string outDir, TextWriter log) => RegretExperiment.Run(Problem, quick, outDir, log);
}
