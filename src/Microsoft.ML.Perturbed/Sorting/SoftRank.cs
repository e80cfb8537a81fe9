namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Soft ranks by projection onto the permutahedron (Blondel et al. 2020, §5): r_ε(θ) = P(ρ, θ/ε) with
/// ρ = (n, n−1, …, 1). Ranks start at 1; ascending gives the smallest value rank 1. They always sum to n(n+1)/2,
/// tend to the exact ranks as ε → 0 and to the mean rank (n+1)/2 as ε → ∞.
/// </summary>
/// <remarks>
/// With x = sign·θ/ε sorted decreasingly into s (sign = +1 ascending, −1 descending): L2 computes
/// v = PAV-L2(s − ρ) and ranks s − v; KL computes v = PAV-KL(s, log ρ) and ranks exp(s − v); each value goes back to
/// its input's position. Example (ascending, L2): soft ranks of [5, 1, 2] are [3, 1.25, 1.75] at ε = 2 and [3, 1, 2] at ε = 1.
/// </remarks>
internal sealed class SoftRank : PermutahedronProjection
{
    /// <summary>Creates the operator for rows of <paramref name="dimension"/> values.</summary>
    /// <param name="dimension">Length n of a row.</param>
    /// <param name="epsilon">Regularization strength ε ≥ 0 (0: exact ranks, ties averaged).</param>
    /// <param name="regularization">L2 (default) or KL.</param>
    /// <param name="direction">Ascending (default: smallest value gets rank 1) or descending.</param>
    public SoftRank(int dimension, double epsilon = 1.0, SoftRegularization regularization = SoftRegularization.L2,
        SortDirection direction = SortDirection.Ascending)
        : base(dimension, epsilon, regularization, direction)
    {
        _reference = Enumerable.Range(0, dimension).Select(k => (double)(dimension - k)).ToArray();
        _logReference = _reference.Select(v => Math.Log(v)).ToArray();
    }

    private readonly double[] _reference, _logReference;   // ρ = (n, …, 1) and log ρ

    private protected override void ComputeRow(Workspace w, RowMode mode) => ProjectOntoReference(w, mode, _reference, _logReference);
}
