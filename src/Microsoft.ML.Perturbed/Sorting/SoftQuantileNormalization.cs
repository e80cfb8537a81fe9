namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Quantile normalization, hard (ε = 0) or soft (ε &gt; 0): each row keeps its order, and its values are replaced by
/// target quantiles f — the smallest value gets the smallest target (ascending). Hard: Ψ_f(θ) = Π_σ(θ)ᵀ f, with a run
/// of tied values sharing the mean of their targets. Soft: the projection of θ/ε onto the permutahedron of f (the same
/// operator as <see cref="SoftRank"/>, which is the case f = (1, …, n)), exact VJP/JVP, and Σ output = Σ f (L2).
/// </summary>
internal sealed class SoftQuantileNormalization : PermutahedronProjection
{
    private readonly double[] _descending, _logDescending;

    /// <summary>Creates the operator for rows of <paramref name="targets"/>.Length values.</summary>
    /// <param name="targets">Target quantiles f (any order; finite; positive for KL). See <see cref="QuantileTargets"/>.</param>
    /// <param name="epsilon">Regularization strength ε ≥ 0 (0: hard quantile normalization).</param>
    /// <param name="regularization">L2 (default) or KL.</param>
    /// <param name="direction">Ascending (default: the smallest value gets the smallest target) or descending.</param>
    public SoftQuantileNormalization(ReadOnlySpan<double> targets, double epsilon = 0, SoftRegularization regularization = SoftRegularization.L2,
        SortDirection direction = SortDirection.Ascending)
        : base(targets.Length, epsilon, regularization, direction)
    {
        for (int k = 0; k < targets.Length; k++)
        {
            if (!double.IsFinite(targets[k]) || (regularization == SoftRegularization.KL && !(targets[k] > 0)))
            {
                throw new ArgumentException(
                    $"Targets must be finite{(regularization == SoftRegularization.KL ? " and positive for KL regularization" : "")}; entry {k} is {targets[k]}.", nameof(targets));
            }
        }
        _descending = targets.ToArray();
        Array.Sort(_descending);
        Array.Reverse(_descending);
        _logDescending = regularization == SoftRegularization.KL ? _descending.Select(v => Math.Log(v)).ToArray() : [];
    }

    /// <summary>The target quantiles, ascending.</summary>
    public IReadOnlyList<double> Targets => _descending.Reverse().ToArray();

    private protected override void ComputeRow(Workspace w, RowMode mode) => ProjectOntoReference(w, mode, _descending, _logDescending);
}
