using Microsoft.ML.Perturbed.Noise;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>One settings type for every soft ranking and sorting method; each method reads the options that concern it.</summary>
public sealed class SoftRankingOptions
{
    /// <summary>The smoothing; default <see cref="SoftRankingMethod.PermutahedronL2"/>.</summary>
    public SoftRankingMethod Method { get; set; } = SoftRankingMethod.PermutahedronL2;

    /// <summary>
    /// Strength ε: the regularization of the permutahedron projection (≥ 0, 0 for hard results), the entropic
    /// regularization of Sinkhorn (&gt; 0, on squashed values in [0, 1]; about 0.01 is sharp), or the noise scale of the
    /// perturbed method (&gt; 0, on the scale of the inputs). Default 1.
    /// </summary>
    public double Epsilon { get; set; } = 1.0;

    /// <summary>Ascending (default) or descending.</summary>
    public SortDirection Direction { get; set; } = SortDirection.Ascending;

    /// <summary>Sinkhorn: input squashing.</summary>
    public Squashing Squashing { get; set; } = Squashing.Logistic;

    /// <summary>Sinkhorn: marginal tolerance.</summary>
    public double Tolerance { get; set; } = 1e-4;

    /// <summary>Sinkhorn: iteration cap.</summary>
    public int MaxIterations { get; set; } = 1000;

    /// <summary>Perturbed: number of noise samples M per row.</summary>
    public int Samples { get; set; } = 100;

    /// <summary>Perturbed: noise law.</summary>
    public NoiseDistribution Noise { get; set; } = NoiseDistribution.Normal;

    /// <summary>Perturbed: seed of the noise.</summary>
    public int Seed { get; set; }

    /// <summary>Most threads a call may use; −1 (default) uses every core.</summary>
    public int MaxDegreeOfParallelism { get; set; } = -1;
}
