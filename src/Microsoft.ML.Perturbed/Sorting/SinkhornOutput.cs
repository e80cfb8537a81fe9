namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>What an <see cref="SinkhornSorting"/> operator reads off the transport plan P (n inputs → m targets).</summary>
public enum SinkhornOutput
{
    /// <summary>Soft ranks n·a⁻¹ ⊙ P·cumsum(b), in [0, n]; ascending: the smallest value gets about 1. Length n.</summary>
    Rank = 0,

    /// <summary>Soft CDF values a⁻¹ ⊙ P·cumsum(b) ∈ [0, 1]: the share of the row below each value. Length n.</summary>
    Cdf = 1,

    /// <summary>Soft sorted values b⁻¹ ⊙ Pᵀx, one per target. Length m.</summary>
    Sort = 2,

    /// <summary>The soft τ-quantile: targets (0, ½, 1) with weights (τ − t/2, t, 1 − τ − t/2), read at the middle one. Length 1.</summary>
    Quantile = 3,

    /// <summary>Soft quantile normalization a⁻¹ ⊙ P f to the target values f (sorted ascending, length m). Length n.</summary>
    QuantileNormalize = 4,
}
