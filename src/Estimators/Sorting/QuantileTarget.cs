namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>Where quantile normalization takes its target quantiles from.</summary>
public enum QuantileTarget
{
    /// <summary>Uniform quantiles (k + ½)/n.</summary>
    Uniform = 0,

    /// <summary>Standard normal quantiles Φ⁻¹((k + ½)/n).</summary>
    Normal = 1,

    /// <summary>Learned by <c>Fit</c>: the mean of the training rows sorted ascending (classic quantile normalization).</summary>
    Learned = 2,

    /// <summary>The values given in <see cref="SoftSortingOptions.TargetValues"/>.</summary>
    Custom = 3,
}
