namespace Microsoft.ML.Perturbed.TorchSharp;

/// <summary>The prediction heads that run entirely on the device.</summary>
public enum TorchHeadKind
{
    /// <summary>One-hot of the argmax (simplex).</summary>
    Argmax = 0,

    /// <summary>Indicator of the k largest (top-k polytope).</summary>
    TopK = 1,

    /// <summary>Ascending ranks 1..d, the largest score getting d (permutahedron), as <c>RankingOracle</c>.</summary>
    Ranking = 2,
}
