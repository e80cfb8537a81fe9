using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// Listwise learning to rank over a solution pool (Mandi et al. 2022; PyEPO's <c>listwiseLTR</c>): with the true costs
/// (scores) t as the target and S = Γ ∪ {w*(t)} (<see cref="PoolLoss"/>), the cross-entropy between the softmax
/// distributions of the true and predicted objectives over S, ℓ = −Σ_{w∈S} p_w log q_w with p = softmax(s⟨t, w⟩),
/// q = softmax(s⟨θ, w⟩) (s = −1 for a cost head: cheaper solutions weigh more), gradient s Σ (q_w − p_w) w. Computed with
/// the maxima subtracted (no overflow). PyEPO averages the terms over the pool as well (a factor 1/|S|).
/// </summary>
internal sealed class ListwiseRankingLoss(Oracle oracle, double solveRatio, int seed) : PoolLoss(oracle, LabelKind.Costs, solveRatio, seed)
{
    /// <inheritdoc/>
    public override string Name => $"ListwiseLTR({Oracle.Name})";

    /// <inheritdoc/>
    protected override bool UsesTrueObjective => true;

    /// <inheritdoc/>
    protected override double Coefficients(ReadOnlySpan<double> z, ReadOnlySpan<double> u, int star, int sign, Span<double> a)
    {
        int n = z.Length;
        double maxU = double.NegativeInfinity, maxZ = double.NegativeInfinity;
        for (int k = 0; k < n; k++)
        {
            maxU = Math.Max(maxU, sign * u[k]);
            maxZ = Math.Max(maxZ, sign * z[k]);
        }
        double sumP = 0, sumQ = 0;
        for (int k = 0; k < n; k++)
        {
            sumP += Math.Exp(sign * u[k] - maxU);
            sumQ += Math.Exp(sign * z[k] - maxZ);
        }
        double logSumQ = Math.Log(sumQ), value = 0;
        for (int k = 0; k < n; k++)
        {
            double p = Math.Exp(sign * u[k] - maxU) / sumP, logQ = sign * z[k] - maxZ - logSumQ;
            value -= p * logQ;
            a[k] = sign * (Math.Exp(logQ) - p);
        }
        return value;
    }
}
