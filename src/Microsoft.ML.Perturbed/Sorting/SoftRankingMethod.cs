namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>How ranks and sorts are smoothed.</summary>
public enum SoftRankingMethod
{
    /// <summary>Euclidean projection onto the permutahedron (Blondel et al. 2020): exact, O(n log n), piecewise linear.</summary>
    PermutahedronL2 = 0,

    /// <summary>KL projection onto the permutahedron (Blondel et al. 2020): exact, O(n log n).</summary>
    PermutahedronKL = 1,

    /// <summary>Entropic optimal transport to a grid (Cuturi et al. 2019): O(n²) per iteration, unrolled gradients.</summary>
    Sinkhorn = 2,

    /// <summary>Perturbed ranking oracle (Berthet et al. 2020): Monte-Carlo, M sorts per row, score-function gradients.</summary>
    Perturbed = 3,
}
