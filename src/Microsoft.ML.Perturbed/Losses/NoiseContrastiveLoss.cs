using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// Noise-contrastive estimation over a solution pool (Mulamba et al. 2021; PyEPO's <c>NCE</c>): with the true solution
/// w* as the target and the row's set S = Γ ∪ {w*} (<see cref="PoolLoss"/>), for a cost head (predicted costs θ)
/// ℓ = (1/|S|) Σ_{w∈S} (⟨θ, w*⟩ − ⟨θ, w⟩), gradient w* − mean_S w; for a maximizing head ℓ = (1/|S|) Σ (⟨θ, w⟩ − ⟨θ, w*⟩),
/// gradient mean_S w − w*. Linear in θ (unbounded below: its gradient is constant for a fixed pool).
/// </summary>
internal sealed class NoiseContrastiveLoss(Oracle oracle, double solveRatio, int seed) : PoolLoss(oracle, LabelKind.Solution, solveRatio, seed)
{
    /// <inheritdoc/>
    public override string Name => $"NCE({Oracle.Name})";

    /// <inheritdoc/>
    protected override double Coefficients(ReadOnlySpan<double> z, ReadOnlySpan<double> u, int star, int sign, Span<double> a)
    {
        int n = z.Length;
        double mean = 0;
        for (int k = 0; k < n; k++) mean += z[k];
        mean /= n;
        a.Fill(sign / (double)n);
        a[star] -= sign;
        return sign * (mean - z[star]);
    }
}
