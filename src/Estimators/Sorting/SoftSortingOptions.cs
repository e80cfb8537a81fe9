using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>Options of <c>SoftRank</c>, <c>SoftSort</c> and <c>QuantileNormalize</c>.</summary>
public sealed class SoftSortingOptions
{
    /// <summary>Output/input column pairs; each input must be a known-size vector of <see cref="float"/>. Default empty (at least one is required).</summary>
    public InputOutputColumnPair[] Columns { get; set; } = [];

    /// <summary>
    /// The smoothing: permutahedron L2 (default) or KL, Sinkhorn, or perturbed (not for quantile normalization). Sinkhorn
    /// costs about 5–8 permutahedron passes at ε = 1 and more at smaller ε (more iterations): cache after it before a multi-pass trainer (see <see cref="SoftSortingTransformer"/>).
    /// </summary>
    public SoftRankingMethod Method { get; set; } = SoftRankingMethod.PermutahedronL2;

    /// <summary>Strength ε (see <see cref="SoftRankingOptions.Validate"/>); 0 gives hard results for the permutahedron methods. Default 1.</summary>
    public double Epsilon { get; set; } = PerturbedOptimizerOptions.DefaultEpsilon;

    /// <summary>Ascending (default) or descending.</summary>
    public SortDirection Direction { get; set; } = SortDirection.Ascending;

    /// <summary>Quantile normalization: the target quantiles; default uniform.</summary>
    public QuantileTarget Target { get; set; } = QuantileTarget.Uniform;

    /// <summary>Quantile normalization with <see cref="QuantileTarget.Custom"/>: the targets, one per slot. Default null.</summary>
    public double[]? TargetValues { get; set; }

    /// <summary>Perturbed method: noise samples per row; default 100.</summary>
    public int Samples { get; set; } = PerturbedOptimizerOptions.DefaultSamples;

    /// <summary>Perturbed method: seed (every row uses the same noise, so a row's output depends on its values only); default 0.</summary>
    public int Seed { get; set; }

    /// <summary>Sinkhorn: iteration cap; default 1000.</summary>
    public int MaxIterations { get; set; } = 1000;

    /// <summary>Sinkhorn: marginal tolerance; default 1e-4.</summary>
    public double Tolerance { get; set; } = 1e-4;

    /// <summary>Sinkhorn: input squashing; default logistic.</summary>
    public Squashing Squashing { get; set; } = Squashing.Logistic;
}
