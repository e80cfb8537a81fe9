using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Losses;
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
    /// Robust regression by least-quantile regression (Cuturi, Teboul &amp; Vert 2019, §5): the model's one output θ is fitted
    /// to a Single response by minimizing, on each mini-batch, the soft <paramref name="quantile"/>-quantile of the absolute
    /// residuals |θ − z| (Sinkhorn's quantile operator at <paramref name="epsilon"/>), so the worst (1 − τ) share of the rows —
    /// gross outliers — do not pull the fit (τ = 0.5: least-median regression). The model appends <c>Score</c>, a Single with
    /// ML.NET's regression annotations (<c>mlContext.Regression.Evaluate</c> reads it), and saves and loads like every
    /// perturbed model. Every other setting is the options' default (affine model, Adam, batch 32).
    /// </summary>
    /// <param name="quantile">τ ∈ (0, 1); default 0.5.</param>
    /// <param name="epsilon">Sinkhorn's ε on the squashed residuals (≥ 1e-6); default 0.01.</param>
    /// <param name="labelColumnName">The response: a Single column; default "Label".</param>
    /// <param name="featureColumnName">Features (known-size Single vector); default "Features".</param>
    /// <param name="numberOfIterations">Epochs; default 50.</param>
    /// <param name="learningRate">Adam's learning rate; default 0.01.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (named).</exception>
    public PerturbedTrainer LeastQuantileRegression(double quantile = StructuredLossOptions.DefaultQuantileLevel, double epsilon = 0.01, string labelColumnName = "Label",
        string featureColumnName = "Features", int numberOfIterations = StructuredTrainerOptions.DefaultNumberOfIterations, double learningRate = StructuredTrainerOptions.DefaultLearningRate)
        => LeastQuantileRegression(new PerturbedStructuredOptions
        {
            QuantileLevel = quantile, Epsilon = epsilon, LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName,
            NumberOfIterations = numberOfIterations, LearningRate = learningRate,
        });

    /// <summary>
    /// Least-quantile regression with every option: τ (<see cref="PerturbedTrainerOptions.QuantileLevel"/>, default 0.5), the
    /// window width t (<see cref="PerturbedTrainerOptions.QuantileWidth"/>, default one residual's share of the batch), the
    /// smoothing (<see cref="PerturbedTrainerOptions.SoftRankMethod"/>, default Sinkhorn) and its ε
    /// (<see cref="PerturbedTrainerOptions.Epsilon"/>: note its default 1 is very smooth for Sinkhorn, which is sharp near
    /// 0.01), the batch size (the paper: 512), epochs, learning rate, L2, validation and early stopping (on the mean of the
    /// validation chunks' soft quantiles), backend. The loss is the trainer's own: <see cref="PerturbedTrainerOptions.Loss"/>
    /// must stay at its default, and example weights are refused (the loss is one value per batch).
    /// </summary>
    /// <param name="options">The options.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">A setting is out of range, <c>Loss</c> is set, or an example-weight column is named (each named).</exception>
    public PerturbedTrainer LeastQuantileRegression(PerturbedStructuredOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Loss != StructuredLossKind.FenchelYoung)
        {
            throw new ArgumentException($"'{nameof(options.Loss)}' is not read by least-quantile regression, which trains its own loss; leave it at its default (got {options.Loss}).", nameof(options.Loss));
        }
        if (options.ExampleWeightColumnName is not null)
        {
            throw new ArgumentException($"'{nameof(options.ExampleWeightColumnName)}' ('{options.ExampleWeightColumnName}'): least-quantile regression takes no example weights (its loss is one quantile per batch).", nameof(options.ExampleWeightColumnName));
        }
        PerturbedTrainer trainer = Perturbed(new RegressionHead(), options);   // checks every option by name
        _ = StructuredLoss.LeastQuantile(options.ToTrainerOptions(0));          // and the method's ε (Sinkhorn ≥ 1e-6)
        return trainer;
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
