using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// The soft top-k loss of Cuturi, Teboul &amp; Vert (2019, §5) over any head (<see cref="StructuredLossKind.SoftTopK"/>):
/// ℓ(θ, y) = Σᵢ yᵢ J_k(d − R̃_ε(θ)ᵢ), J_k(u) = max(0, u − k + 1), with R̃_ε the soft ranks of the row's d scores (the best
/// scored gets d). For a one-hot target — a class label l — it is J_k(d − R̃_l): 0 when l ranks among the k best, and at
/// ε → 0 the number of classes beyond the k − 1 allowed that outrank l, an upper bound of the top-k error 1[d − R_l ≥ k].
/// A <see cref="LayerLoss"/> of the soft-rank layer (no sorting code of its own), so its gradient is the soft ranks' exact
/// VJP of the cotangent −yᵢ·1[d − R̃ᵢ − k + 1 &gt; 0].
/// </summary>
internal static class SoftTopKLoss
{
    /// <summary>The loss over <paramref name="head"/> with the settings of <paramref name="options"/> (checked by the caller).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="StructuredLossOptions.SoftTopK"/> exceeds the head's dimension,
    /// <see cref="StructuredLossOptions.SoftRankMethod"/> is the perturbed method, or ε is below what the method accepts
    /// (each named).</exception>
    public static StructuredLoss Create(Oracle head, StructuredLossOptions options)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(options);
        int d = head.Dimension, k = options.SoftTopK;
        if (k > d)
        {
            throw new ArgumentOutOfRangeException(nameof(options.SoftTopK), k,
                $"'{nameof(options.SoftTopK)}' k must lie in [1, {d}] for the {d} scores of the head {head.Name}, got {k}.");
        }
        Layer ranks = SoftRanking.CreateRank(d, RankOptions(options, head.Sense == OptimizationSense.Maximize ? SortDirection.Ascending : SortDirection.Descending));
        return new LayerLoss(ranks, Row(d, k), $"SoftTop{k}");
    }

    /// <summary>
    /// The soft-ranking settings of these losses: the method, ε and parallelism of <paramref name="options"/>, the direction
    /// given; the perturbed method refused (naming <see cref="StructuredLossOptions.SoftRankMethod"/>), ε checked for the method.
    /// </summary>
    internal static SoftRankingOptions RankOptions(StructuredLossOptions options, SortDirection direction)
    {
        if (options.SoftRankMethod == SoftRankingMethod.Perturbed)
        {
            throw new ArgumentOutOfRangeException(nameof(options.SoftRankMethod), options.SoftRankMethod,
                $"'{nameof(options.SoftRankMethod)}' {SoftRankingMethod.Perturbed} is not offered by the soft top-k and least-quantile losses, whose gradients are exact; use Sinkhorn, PermutahedronL2 or PermutahedronKL.");
        }
        var rank = new SoftRankingOptions
        {
            Method = options.SoftRankMethod, Epsilon = options.Epsilon, Direction = direction, MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
        };
        rank.Validate();   // Sinkhorn: ε ≥ 1e-6, named 'Epsilon'
        return rank;
    }

    /// <summary>Σᵢ yᵢ max(0, d − rᵢ − k + 1) of the soft ranks r, cotangent −yᵢ where the hinge is active (0 at the kink).</summary>
    private static RowLoss Row(int d, int k) => (ranks, target, cotangent) =>
    {
        double sum = 0;
        for (int i = 0; i < ranks.Length; i++)
        {
            double u = (double)d - ranks[i] - k + 1;
            bool active = u > 0 && target[i] != 0;
            cotangent[i] = active ? -target[i] : 0;
            if (active) sum += target[i] * u;
        }
        return sum;
    };
}
