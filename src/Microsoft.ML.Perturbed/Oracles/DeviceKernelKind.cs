namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>The solvers a device backend (the TorchSharp one) implements as batched kernels (<see cref="DeviceKernel"/>).</summary>
internal enum DeviceKernelKind
{
    /// <summary>One-hot of the largest score, the lowest index among ties (<see cref="Oracle.Argmax"/>).</summary>
    Argmax = 0,

    /// <summary>Indicator of the k largest scores (<see cref="Oracle.TopK"/>; k in <see cref="DeviceKernel.K"/>).</summary>
    TopK = 1,

    /// <summary>Ascending ranks 1..d, the largest score getting d (<see cref="Oracle.Ranking(int)"/> with its default reference).</summary>
    Ranking = 2,

    /// <summary>Maximum-weight perfect matching of an n×n score matrix, row-major (<see cref="Oracle.Matching"/>).</summary>
    Matching = 3,
}
