using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// Pointwise learning to rank over a solution pool (Mandi et al. 2022; PyEPO's <c>pointwiseLTR</c>): with the true costs
/// (scores) t as the target and S = Γ ∪ {w*(t)} (<see cref="PoolLoss"/>), ℓ = (1/|S|) Σ_{w∈S} (⟨t, w⟩ − ⟨θ, w⟩)², gradient
/// −(2/|S|) Σ (⟨t, w⟩ − ⟨θ, w⟩) w: the squared error of the solutions' objectives, the same for both senses.
/// </summary>
internal sealed class PointwiseRankingLoss(Oracle oracle, double solveRatio, int seed) : PoolLoss(oracle, LabelKind.Costs, solveRatio, seed)
{
    /// <inheritdoc/>
    public override string Name => $"PointwiseLTR({Oracle.Name})";

    /// <inheritdoc/>
    protected override bool UsesTrueObjective => true;

    /// <inheritdoc/>
    protected override double Coefficients(ReadOnlySpan<double> z, ReadOnlySpan<double> u, int star, int sign, Span<double> a)
    {
        int n = z.Length;
        double value = 0;
        for (int k = 0; k < n; k++)
        {
            double residual = u[k] - z[k];
            value += residual * residual;
            a[k] = -2 * residual / n;
        }
        return value / n;
    }
}
