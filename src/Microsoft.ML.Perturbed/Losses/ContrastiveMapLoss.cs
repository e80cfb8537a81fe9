using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// Contrastive maximum a posteriori over a solution pool (Mulamba et al. 2021; PyEPO's <c>contrastiveMAP</c>): with the
/// true solution w* as the target and S = Γ ∪ {w*} (<see cref="PoolLoss"/>), for a cost head ℓ = ⟨θ, w*⟩ − min_{w∈S} ⟨θ, w⟩,
/// gradient w* − ŵ; for a maximizing head ℓ = max_{w∈S} ⟨θ, w⟩ − ⟨θ, w*⟩, gradient ŵ − w*, with ŵ the best solution of S
/// under θ (the first in pool order on ties). ℓ ≥ 0, 0 when w* is best in S; piecewise linear and continuous in θ.
/// </summary>
internal sealed class ContrastiveMapLoss(Oracle oracle, double solveRatio, int seed) : PoolLoss(oracle, LabelKind.Solution, solveRatio, seed)
{
    /// <inheritdoc/>
    public override string Name => $"CMAP({Oracle.Name})";

    /// <inheritdoc/>
    protected override double Coefficients(ReadOnlySpan<double> z, ReadOnlySpan<double> u, int star, int sign, Span<double> a)
    {
        int best = 0;
        for (int k = 1; k < z.Length; k++)
        {
            if (sign * z[k] > sign * z[best]) best = k;
        }
        a.Clear();
        a[best] += sign;
        a[star] -= sign;
        return sign * (z[best] - z[star]);
    }
}
