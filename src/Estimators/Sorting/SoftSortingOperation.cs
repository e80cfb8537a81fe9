namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>What a <see cref="SoftSortingTransformer"/> computes for each vector.</summary>
public enum SoftSortingOperation
{
    /// <summary>Soft ranks (1 … n; ascending: the smallest value gets 1).</summary>
    Rank = 0,

    /// <summary>Soft sort of the vector's values.</summary>
    Sort = 1,

    /// <summary>Quantile normalization to target quantiles (hard at ε = 0).</summary>
    QuantileNormalize = 2,
}
