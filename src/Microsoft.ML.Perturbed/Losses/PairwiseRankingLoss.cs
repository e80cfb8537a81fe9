using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// Pairwise learning to rank over a solution pool (Mandi et al. 2022; PyEPO's <c>pairwiseLTR</c>): with the true costs
/// (scores) t as the target, S = Γ ∪ {w*(t)} (<see cref="PoolLoss"/>) and b the best solution of S under t (the first in
/// pool order on ties), for a cost head ℓ = Σ_{w≠b} relu(⟨θ, b⟩ − ⟨θ, w⟩)/(|S| − 1), for a maximizing head
/// ℓ = Σ_{w≠b} relu(⟨θ, w⟩ − ⟨θ, b⟩)/(|S| − 1); 0 when S has one solution. Its gradient is 0 where no pair is violated —
/// at θ = 0 too, so training starts from small random weights (initial weight scale 0.01).
/// </summary>
internal sealed class PairwiseRankingLoss(Oracle oracle, double solveRatio, int seed) : PoolLoss(oracle, LabelKind.Costs, solveRatio, seed)
{
    /// <inheritdoc/>
    public override string Name => $"PairwiseLTR({Oracle.Name})";

    /// <inheritdoc/>
    protected override bool UsesTrueObjective => true;

    /// <inheritdoc/>
    protected override double Coefficients(ReadOnlySpan<double> z, ReadOnlySpan<double> u, int star, int sign, Span<double> a)
    {
        int n = z.Length, best = 0;
        a.Clear();
        if (n == 1) return 0;
        for (int k = 1; k < n; k++)
        {
            if (sign * u[k] > sign * u[best]) best = k;
        }
        double value = 0, total = 0, weight = sign / (double)(n - 1);
        for (int k = 0; k < n; k++)
        {
            if (k == best) continue;
            double violation = sign * (z[k] - z[best]);
            if (violation > 0)
            {
                value += violation;
                a[k] = weight;
                total += weight;
            }
        }
        a[best] = -total;
        return value / (n - 1);
    }
}
