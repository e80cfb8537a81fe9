namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>What an <see cref="SinkhornSorting"/> operator reads off the transport plan P (n inputs → m targets).</summary>
public enum SinkhornOutput
{
    /// <summary>
    /// Soft ranks n·a⁻¹ ⊙ P·cumsum(b); ascending: the smallest value gets about 1. Length n. A row stopped at the
    /// iteration cap is read with its own mass (P1)ᵢ for aᵢ, so its ranks lie in [n·b₁, n] ([1, n] for m = n uniform targets).
    /// </summary>
    Rank = 0,

    /// <summary>Soft CDF values a⁻¹ ⊙ P·cumsum(b) ∈ [0, 1]: the share of the row below each value (capped rows: (P1)ᵢ for aᵢ, in [b₁, 1]). Length n.</summary>
    Cdf = 1,

    /// <summary>Soft sorted values b⁻¹ ⊙ Pᵀx, one per target, in [min x, max x] (capped rows: the column masses Pᵀ1 for b). Length m.</summary>
    Sort = 2,

    /// <summary>The soft τ-quantile: targets (0, ½, 1) with weights (τ − t/2, t, 1 − τ − t/2), read at the middle one. Length 1.</summary>
    Quantile = 3,

    /// <summary>Soft quantile normalization a⁻¹ ⊙ P f to the target values f (sorted ascending, length m; capped rows: (P1)ᵢ for aᵢ, in [f₁, fₘ]). Length n.</summary>
    QuantileNormalize = 4,
}
