using Microsoft.ML.Perturbed.Estimators.Sorting;
using Microsoft.ML.Perturbed.Sorting;

// Extension methods in ML.NET's own namespace (see PerturbedCatalog.cs).
namespace Microsoft.ML;

// Part of PerturbedCatalog: mlContext.Transforms extensions: differentiable ranking, sorting and quantile normalization of known-size
// Vector<Single> columns (Blondel et al. 2020; Cuturi et al. 2019; Berthet et al. 2020).
public static partial class PerturbedCatalog
{
    /// <summary>Soft ranks of each vector (ascending: the smallest value gets rank 1; ranks sum to n(n+1)/2).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the output column.</param>
    /// <param name="inputColumnName">Name of the input column (a known-size vector of Single); defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="epsilon">Strength ε ≥ 0 (0: exact ranks, ties averaged).</param>
    /// <param name="direction">Ascending (default) or descending.</param>
    /// <param name="method">The smoothing; default the L2 permutahedron projection. Sinkhorn costs about 5–8 permutahedron passes at ε = 1 and more at smaller ε (more iterations): cache after it before a multi-pass trainer (see <see cref="SoftSortingTransformer"/>).</param>
    /// <example><code>var pipeline = mlContext.Transforms.SoftRank("Ranks", "Scores", epsilon: 0.1);</code></example>
    public static SoftSortingEstimator SoftRank(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        double epsilon = 1.0, SortDirection direction = SortDirection.Ascending, SoftRankingMethod method = SoftRankingMethod.PermutahedronL2)
        => Create(catalog, SoftSortingOperation.Rank, Options([new(outputColumnName, inputColumnName ?? outputColumnName)], epsilon, direction, method));

    /// <summary>Soft ranks of several columns in one transform.</summary>
    public static SoftSortingEstimator SoftRank(this TransformsCatalog catalog, InputOutputColumnPair[] columns,
        double epsilon = 1.0, SortDirection direction = SortDirection.Ascending, SoftRankingMethod method = SoftRankingMethod.PermutahedronL2)
        => Create(catalog, SoftSortingOperation.Rank, Options(columns, epsilon, direction, method));

    /// <summary>Soft ranks with every option.</summary>
    public static SoftSortingEstimator SoftRank(this TransformsCatalog catalog, SoftSortingOptions options)
        => Create(catalog, SoftSortingOperation.Rank, options);

    /// <summary>Soft sort of each vector's values (ascending by default).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the output column.</param>
    /// <param name="inputColumnName">Name of the input column; defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="epsilon">Strength ε ≥ 0 (0: exact sort).</param>
    /// <param name="direction">Ascending (default) or descending.</param>
    /// <param name="method">The smoothing; default the L2 permutahedron projection. Sinkhorn costs about 5–8 permutahedron passes at ε = 1 and more at smaller ε (more iterations): cache after it before a multi-pass trainer (see <see cref="SoftSortingTransformer"/>).</param>
    public static SoftSortingEstimator SoftSort(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        double epsilon = 1.0, SortDirection direction = SortDirection.Ascending, SoftRankingMethod method = SoftRankingMethod.PermutahedronL2)
        => Create(catalog, SoftSortingOperation.Sort, Options([new(outputColumnName, inputColumnName ?? outputColumnName)], epsilon, direction, method));

    /// <summary>Soft sort of several columns in one transform.</summary>
    public static SoftSortingEstimator SoftSort(this TransformsCatalog catalog, InputOutputColumnPair[] columns,
        double epsilon = 1.0, SortDirection direction = SortDirection.Ascending, SoftRankingMethod method = SoftRankingMethod.PermutahedronL2)
        => Create(catalog, SoftSortingOperation.Sort, Options(columns, epsilon, direction, method));

    /// <summary>Soft sort with every option.</summary>
    public static SoftSortingEstimator SoftSort(this TransformsCatalog catalog, SoftSortingOptions options)
        => Create(catalog, SoftSortingOperation.Sort, options);

    /// <summary>
    /// Quantile normalization of each vector: its values are replaced by target quantiles in the vector's own order
    /// (hard at ε = 0, soft and differentiable for ε &gt; 0). With <see cref="QuantileTarget.Learned"/>, <c>Fit</c> learns
    /// the targets from the training rows and the model saves them.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the output column.</param>
    /// <param name="inputColumnName">Name of the input column; defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="target">Target quantiles: uniform (default), standard normal, or learned from the data.</param>
    /// <param name="epsilon">Strength ε ≥ 0; default 0 (hard quantile normalization).</param>
    public static SoftSortingEstimator QuantileNormalize(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        QuantileTarget target = QuantileTarget.Uniform, double epsilon = 0)
    {
        SoftSortingOptions options = Options([new(outputColumnName, inputColumnName ?? outputColumnName)], epsilon, SortDirection.Ascending, SoftRankingMethod.PermutahedronL2);
        options.Target = target;
        return Create(catalog, SoftSortingOperation.QuantileNormalize, options);
    }

    /// <summary>Quantile normalization with every option.</summary>
    public static SoftSortingEstimator QuantileNormalize(this TransformsCatalog catalog, SoftSortingOptions options)
        => Create(catalog, SoftSortingOperation.QuantileNormalize, options);

    /// <summary>
    /// The Kendall embedding of each vector (Jiao &amp; Vert): a known-size vector of n Singles becomes n(n−1)/2 slots, one
    /// per pair i &lt; j in row order ((0,1), (0,2), …, (1,2), …): 1 where xᵢ &lt; xⱼ, 0 where xᵢ &gt; xⱼ, ½ on ties. The
    /// inner product of two centered embeddings (2Φ − 1) is their concordant minus discordant pairs, so a linear model on
    /// it uses the Kendall kernel (<see cref="PermutationKernels"/>). The input needs 2 to 5793 slots
    /// (<see cref="PermutationKernels.MaxEmbeddingLength"/> pairs at most); the model saves, loads and exports to ONNX.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the output column.</param>
    /// <param name="inputColumnName">Name of the input column (a known-size vector of Single); defaults to <paramref name="outputColumnName"/>.</param>
    /// <example><code>var pipeline = mlContext.Transforms.KendallEmbedding("Pairs", "Scores");</code></example>
    public static IEstimator<ITransformer> KendallEmbedding(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var estimator = new KendallEmbeddingEstimator(outputColumnName, inputColumnName ?? outputColumnName,
            Microsoft.ML.Perturbed.Estimators.ModelPersistence.MlNetInternals.EnvironmentOf(catalog));
        RegisterWith(catalog);
        return estimator;
    }

    private static SoftSortingOptions Options(InputOutputColumnPair[] columns, double epsilon, SortDirection direction, SoftRankingMethod method) =>
        new() { Columns = columns, Epsilon = epsilon, Direction = direction, Method = method };

    private static SoftSortingEstimator Create(TransformsCatalog catalog, SoftSortingOperation operation, SoftSortingOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var estimator = new SoftSortingEstimator(operation, options, Microsoft.ML.Perturbed.Estimators.ModelPersistence.MlNetInternals.EnvironmentOf(catalog));
        RegisterWith(catalog);   // so that models built here load back in this context without a call
        return estimator;
    }
}
