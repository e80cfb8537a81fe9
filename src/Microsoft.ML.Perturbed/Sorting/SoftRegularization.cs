namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>Regularization of the projection onto the permutahedron (Blondel et al. 2020, §4).</summary>
internal enum SoftRegularization
{
    /// <summary>Quadratic: Euclidean projection, solved by PAV-L2. Outputs are piecewise linear in the input.</summary>
    L2 = 0,

    /// <summary>Entropic: KL projection, solved by PAV-KL. Soft ranks stay positive.</summary>
    KL = 1,
}
