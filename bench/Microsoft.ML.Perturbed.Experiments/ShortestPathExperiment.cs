using Microsoft.ML.Perturbed.Evaluation;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// The PyEPO shortest-path benchmark (Tang &amp; Khalil) under the shared regret protocol (<see cref="RegretExperiment"/>):
/// 5 × 5 grid, 40 east/south arcs, costs from PyEPO's generator (<see cref="DecisionData.ShortestPath"/>), 1000 test instances.
/// </summary>
public static class ShortestPathExperiment
{
    /// <summary>PyEPO's tutorial notebook, one run each: degree 4, ε̄ 0.5, 1000 training instances, 20 epochs (DESIGN.md §11).</summary>
    public static readonly IReadOnlyDictionary<string, double> Published = new Dictionary<string, double>
    {
        ["PFYL"] = 0.0729, ["SPO+"] = 0.0759, ["NID"] = 0.0890, ["DBB"] = 0.1512, ["I-MLE"] = 0.1207,
        ["NCE"] = 0.1029, ["CMAP"] = 0.1297, ["LTR-point"] = 0.0847, ["LTR-pair"] = 0.0973, ["LTR-list"] = 0.0959,
    };

    private static readonly DagShortestPathOracle Grid = DagShortestPathOracle.Grid(5, 5);

    /// <summary>The benchmark as the shared protocol runs it.</summary>
    public static RegretExperiment.Problem Problem { get; } = new(
        "shortestpath", "shortest path",
        (n, deg, noise, seed) =>
        {
            (float[] x, float[] c) = DecisionData.ShortestPath(n, 5, deg, noise, seed);
            return (Grid, x, c);
        },
        (deg, noise, seed) => 1000 * deg + 10 * seed + (noise > 0 ? 1 : 0),
        "Shortest path, the PyEPO benchmark",
        [
            "Normalized test regret (mean ± std over seeds; see RegretExperiment for the protocol and the methods' settings). Published, PyEPO's",
            "tutorial notebook (one run, degree 4, ε̄ 0.5, 1000 training instances, 20 epochs): PFYL 7.29 %, SPO+ 7.59 %, NID 8.90 %, DBB 15.12 %,",
            "I-MLE 12.07 % (AI-MLE 7.24 %, not built here), NCE 10.29 %, CMAP 12.97 %, LTR pointwise / pairwise / listwise 8.47 / 9.73 / 9.59 %.",
            "Settings: Adam, batch 32, lr 1e-2 (DBB 1e-1); PFYL ε 1, M 1; DBB λ 20; I-MLE σ 1, M 10, Sum-of-Gamma (κ 5, s 10), L1 loss,",
            "λ 10 (10/(32·40) per row); NCE, CMAP, LTR solve ratio 0.05, pool seeded with the training solutions; zero initial weights",
            "(pairwise LTR: N(0, 0.01²)).",
        ],
        Published);

    /// <summary>Runs the grid (or its quick version), writes the table and figure, returns the cells.</summary>
    public static IReadOnlyList<RegretCell>? Run(bool quick, string outDir, TextWriter log) => RegretExperiment.Run(Problem, quick, outDir, log);

    /// <summary>Trains one method on the first n instances and returns the normalized regret on the rest.</summary>
    public static double TrainAndScore(Oracle head, string method, float[] x, float[] c, int n, int tests, int epochs, int seed) =>
        RegretExperiment.TrainAndScore(head, method, x, c, n, tests, epochs, seed);
}
