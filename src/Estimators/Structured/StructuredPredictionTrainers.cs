using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>Trainers of <see cref="StructuredPredictionCatalog"/>.</summary>
public sealed class StructuredPredictionTrainers
{
    private readonly MLContext _mlContext;

    internal StructuredPredictionTrainers(MLContext mlContext) => _mlContext = mlContext;

    /// <summary>
    /// Top-k (multilabel, k labels per row) with the perturbed Fenchel-Young loss over the top-k polytope (or any other loss of
    /// the options): the perturbed trainer with the top-k head (<see cref="PerturbedHeads.TopK"/>). Its model appends
    /// <c>Score</c> (θ) and <c>Prediction</c> (a 0/1 vector with k ones), which <see cref="StructuredPredictionCatalog.EvaluateTopK"/> reads.
    /// </summary>
    /// <param name="k">Labels per row, 1 ≤ k ≤ number of labels.</param>
    /// <param name="options">Options (labels: 0/1 vectors with k ones); defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1.</exception>
    public PerturbedTrainer TopK(int k, PerturbedStructuredOptions? options = null) => Perturbed(new TopKHead(k), options);

    /// <summary>
    /// Perfect matching of n items with the perturbed Fenchel-Young loss over the Birkhoff polytope (or any other loss of the
    /// options): the perturbed trainer with the matching head (<see cref="PerturbedHeads.Matching"/>). Its model appends
    /// <c>Score</c> (θ) and <c>Prediction</c> (an n×n permutation matrix, row-major), which <see cref="StructuredPredictionCatalog.EvaluateMatching"/> reads.
    /// </summary>
    /// <param name="n">Side of the assignment: the label is an n×n permutation matrix (row-major, n² slots).</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is below 1.</exception>
    public PerturbedTrainer Matching(int n, PerturbedStructuredOptions? options = null) => Perturbed(new MatchingHead(n), options);

    /// <summary>
    /// The perturbed trainer over any head: a built-in one from <see cref="PerturbedHeads"/> (<see cref="PerturbedHeads.ShortestPath"/>
    /// on any DAG, <see cref="PerturbedHeads.Knapsack"/>, …) or a user's own solver (<see cref="PerturbedHeads.RegisterOracle"/>).
    /// </summary>
    /// <param name="head">The head (unbound; it binds to the label column when fitting).</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="head"/> is null.</exception>
    public PerturbedTrainer Perturbed(PerturbedHead head, PerturbedStructuredOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(head);
        return new PerturbedTrainer(((IHostEnvironment)_mlContext).Register($"Perturbed{head.Name}"), head, options ?? new PerturbedStructuredOptions());
    }

    /// <summary>
    /// Decision-focused shortest paths on PyEPO's grid (<paramref name="rows"/> × <paramref name="columns"/> nodes, arcs east and
    /// south, <see cref="Oracle.GridShortestPath"/>): the model predicts edge costs; labels are the optimal paths' edge
    /// indicators or (<see cref="LabelKind.Costs"/>, for SPO+ and regret) the true edge costs.
    /// </summary>
    /// <param name="rows">Grid rows of nodes.</param>
    /// <param name="columns">Grid columns of nodes.</param>
    /// <param name="labels">What the label holds (default <see cref="LabelKind.Costs"/>: the true edge costs).</param>
    /// <param name="options">Options; defaults when null.</param>
    public PerturbedTrainer ShortestPath(int rows, int columns, LabelKind labels = LabelKind.Costs, PerturbedStructuredOptions? options = null)
        => Perturbed(new ShortestPathHead(DagShortestPathOracle.Grid(rows, columns), labels), options);

    /// <summary>Shortest paths on a grid with vertex costs and 8-neighbour moves (the Warcraft setting); labels are paths or true cell costs.</summary>
    /// <param name="rows">Grid rows.</param>
    /// <param name="columns">Grid columns.</param>
    /// <param name="labels">What the label holds (default <see cref="LabelKind.Costs"/>: the true non-negative cell costs).</param>
    /// <param name="options">Options; defaults when null.</param>
    public PerturbedTrainer GridShortestPath(int rows, int columns, LabelKind labels = LabelKind.Costs, PerturbedStructuredOptions? options = null)
        => Perturbed(new GridPathHead(rows, columns, labels), options);

    /// <summary>0/1 knapsack with integer weights: the model predicts item values; labels are optimal packings or true values.</summary>
    /// <param name="weights">Item weights (non-negative integers).</param>
    /// <param name="capacity">The capacity (non-negative).</param>
    /// <param name="labels">What the label holds (default <see cref="LabelKind.Costs"/>: the true item values).</param>
    /// <param name="options">Options; defaults when null.</param>
    public PerturbedTrainer Knapsack(IReadOnlyList<int> weights, int capacity, LabelKind labels = LabelKind.Costs, PerturbedStructuredOptions? options = null)
        => Perturbed(new KnapsackHead(weights, capacity, labels), options);
}
