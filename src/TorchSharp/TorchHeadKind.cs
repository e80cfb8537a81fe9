namespace Microsoft.ML.Perturbed.TorchSharp;

/// <summary>
/// The prediction heads that run entirely on the device. The training backend picks one from the head's
/// <c>Oracle.DeviceKernel</c> (the same values as the core's <c>DeviceKernelKind</c>).
/// </summary>
internal enum TorchHeadKind
{
    /// <summary>One-hot of the argmax (simplex).</summary>
    Argmax = 0,

    /// <summary>Indicator of the k largest (top-k polytope).</summary>
    TopK = 1,

    /// <summary>Ascending ranks 1..d, the largest score getting d (permutahedron), as <c>RankingOracle</c>.</summary>
    Ranking = 2,

    /// <summary>
    /// Maximum-weight perfect matching of an n×n score matrix (d = n², row-major), solved exactly by the core's CPU
    /// oracle on the perturbed scores, which move to the host and back (noise, sums and the VJP stay on the device).
    /// </summary>
    Matching = 3,
}
