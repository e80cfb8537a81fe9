using System.Collections.Concurrent;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// The heads of the perturbed trainer: a factory for each built-in head (unbound; it binds to the label column when the
/// trainer fits), <see cref="RegisterOracle"/> for a solver of your own, and the registry by name from which saved models
/// load their head back. Train any of them with <c>mlContext.StructuredPrediction().Trainers.Perturbed(head, options)</c>.
/// Thread-safe.
/// </summary>
public static class PerturbedHeads
{
    private static readonly ConcurrentDictionary<string, Func<BinaryReader, PerturbedHead>> s_readers = new(StringComparer.Ordinal)
    {
        ["Multiclass"] = MulticlassHead.Read,
        ["Ranking"] = RankingHead.Read,
        ["TopK"] = TopKHead.Read,
        ["Matching"] = MatchingHead.Read,
        ["ShortestPath"] = ShortestPathHead.Read,
        ["GridPath"] = GridPathHead.Read,
        ["Knapsack"] = KnapsackHead.Read,
        ["TravelingSalesman"] = TravelingSalesmanHead.Read,
        ["Regression"] = RegressionHead.Read,
    };

    private static readonly HashSet<string> s_builtIn = [.. s_readers.Keys];

    /// <summary>The registered names: the built-in heads' and those registered with <see cref="RegisterOracle"/>.</summary>
    public static IReadOnlyCollection<string> Names => s_readers.Keys.ToArray();

    /// <summary>
    /// Label ranking over the permutahedron (the head of <c>mlContext.LabelRanking().Trainers.PerturbedFenchelYoung</c>): the
    /// label holds ranks, 1 = most preferred; outputs <c>Score</c> and <c>PredictedRanking</c>.
    /// </summary>
    public static PerturbedHead Ranking() => new RankingHead();

    /// <summary>
    /// Multiclass classification over the simplex (the head of <c>mlContext.MulticlassClassification.Trainers.PerturbedFenchelYoung</c>):
    /// the label is a key; outputs <c>Score</c> (class probabilities) and <c>PredictedLabel</c>.
    /// </summary>
    public static PerturbedHead Multiclass() => new MulticlassHead();

    /// <summary>
    /// Top-k selection (multilabel with k labels per row; <see cref="Oracle.TopK"/>): labels and predictions are 0/1 vectors
    /// with k ones; outputs <c>Score</c> (θ) and <c>Prediction</c>.
    /// </summary>
    /// <param name="k">Labels per row, at least 1 (and at most the label's size, checked when the head binds).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1.</exception>
    public static PerturbedHead TopK(int k) => new TopKHead(k);

    /// <summary>
    /// Perfect matching of n rows to n columns (<see cref="Oracle.Matching"/>): labels and predictions are n×n permutation
    /// matrices, row-major (n² slots); outputs <c>Score</c> (θ) and <c>Prediction</c>.
    /// </summary>
    /// <param name="n">Side of the assignment, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is below 1.</exception>
    public static PerturbedHead Matching(int n) => new MatchingHead(n);

    /// <summary>
    /// Shortest path on a directed acyclic graph with edge costs (<see cref="Oracle.ShortestPath"/>; PyEPO's grid with
    /// <see cref="Oracle.GridShortestPath"/>): scores are predicted edge costs, the label one value per edge.
    /// </summary>
    /// <param name="graph">The graph, its source and sink: an oracle made by <see cref="Oracle.ShortestPath"/> or <see cref="Oracle.GridShortestPath"/>.</param>
    /// <param name="labels">What the label holds: the optimal path's edge indicators (default, <see cref="LabelKind.Solution"/>)
    /// or the true edge costs (<see cref="LabelKind.Costs"/>, needed by SPO+ and regret).</param>
    /// <exception cref="ArgumentNullException"><paramref name="graph"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="graph"/> is not a shortest-path oracle of <see cref="Oracle.ShortestPath"/> or <see cref="Oracle.GridShortestPath"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labels"/> is not a defined value.</exception>
    public static PerturbedHead ShortestPath(Oracle graph, LabelKind labels = LabelKind.Solution)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return new ShortestPathHead(graph as DagShortestPathOracle ?? throw new ArgumentException(
            $"'{nameof(graph)}' must be a shortest-path oracle made by Oracle.ShortestPath or Oracle.GridShortestPath; got {graph.Name}.", nameof(graph)), labels);
    }

    /// <summary>
    /// Shortest path on a <paramref name="rows"/> × <paramref name="columns"/> grid with vertex costs and 8-neighbour moves
    /// (<see cref="Oracle.GridVertexShortestPath"/>, the Warcraft setting; costs below 0 read as 0): the label one value per cell.
    /// </summary>
    /// <param name="rows">Grid rows.</param>
    /// <param name="columns">Grid columns (the grid needs at least two cells).</param>
    /// <param name="labels">What the label holds: the optimal path's cells (default, <see cref="LabelKind.Solution"/>) or the
    /// true non-negative cell costs (<see cref="LabelKind.Costs"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">The grid has fewer than two cells, or <paramref name="labels"/> is not a defined value.</exception>
    public static PerturbedHead GridPath(int rows, int columns, LabelKind labels = LabelKind.Solution) => new GridPathHead(rows, columns, labels);

    /// <summary>0/1 knapsack with integer weights (<see cref="Oracle.Knapsack"/>): scores are predicted item values, the label one value per item.</summary>
    /// <param name="weights">Item weights (non-negative integers).</param>
    /// <param name="capacity">The capacity (non-negative).</param>
    /// <param name="labels">What the label holds: the optimal packing (default, <see cref="LabelKind.Solution"/>) or the true
    /// item values (<see cref="LabelKind.Costs"/>).</param>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is null (<see cref="ArgumentNullException"/>) or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A weight or the capacity is negative, the dynamic programme is too large,
    /// or <paramref name="labels"/> is not a defined value.</exception>
    public static PerturbedHead Knapsack(IReadOnlyList<int> weights, int capacity, LabelKind labels = LabelKind.Solution) => new KnapsackHead(weights, capacity, labels);

    /// <summary>
    /// The symmetric travelling salesman over <paramref name="cities"/> = k cities, solved exactly (<see cref="Oracle.TravelingSalesman"/>,
    /// a cost head): scores are the predicted costs of the k(k − 1)/2 pairs of cities — the upper triangle of the cost matrix,
    /// row by row: (0, 1), (0, 2), …, (0, k − 1), (1, 2), …, (k − 2, k − 1) — and the label holds one value per pair.
    /// </summary>
    /// <param name="cities">Number of cities k, from 3 to 16.</param>
    /// <param name="labels">What the label holds: the optimal tour's edge indicators (default, <see cref="LabelKind.Solution"/>)
    /// or the true pair costs (<see cref="LabelKind.Costs"/>, needed by SPO+ and regret).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cities"/> is outside [3, 16], or <paramref name="labels"/> is not a defined value.</exception>
    public static PerturbedHead TravelingSalesman(int cities, LabelKind labels = LabelKind.Solution) => new TravelingSalesmanHead(cities, labels);

    /// <summary>
    /// Registers a head over a user's own solver under <paramref name="name"/> and returns it, unbound and ready to train:
    /// <paramref name="createOracle"/> builds the oracle for d scores (its solutions live in the space of the scores: d
    /// values). Call it in every process that loads the head's models; registering a name again replaces the earlier
    /// registration (a process may register at start-up more than once).
    /// </summary>
    /// <param name="name">The registry name, written into saved models; not a built-in head's.</param>
    /// <param name="createOracle">Builds the oracle for d scores.</param>
    /// <param name="labels">What the label holds: solutions (default, <see cref="LabelKind.Solution"/>) or true costs or scores
    /// (<see cref="LabelKind.Costs"/>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="createOracle"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or a built-in head's.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labels"/> is not a defined value.</exception>
    public static PerturbedHead RegisterOracle(string name, Func<int, Oracle> createOracle, LabelKind labels = LabelKind.Solution)
    {
        var head = new OracleHead(name, createOracle, labels);   // checks the name, the factory and the label kind
        if (s_builtIn.Contains(name)) throw new ArgumentException($"'{name}' is a built-in head; choose another name.", nameof(name));
        s_readers[name] = reader => OracleHead.BoundOracleHead.Read(name, createOracle, reader);
        return head;
    }

    /// <summary>Reads a saved head of <paramref name="name"/>; a name not registered in this process fails naming it and the fix.</summary>
    internal static PerturbedHead Read(string name, BinaryReader reader) =>
        s_readers.TryGetValue(name, out Func<BinaryReader, PerturbedHead>? read)
            ? read(reader)
            : throw new FormatException($"The model uses the head '{name}', which is not registered in this process; call PerturbedHeads.RegisterOracle(\"{name}\", …) before loading.");
}
