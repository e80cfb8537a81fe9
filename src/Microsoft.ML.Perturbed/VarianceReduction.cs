namespace Microsoft.ML.Perturbed;

/// <summary>
/// Variance reduction for the Monte-Carlo Jacobian estimates (JVP and VJP). The forward output ŷ is never
/// changed. Both options keep the estimates unbiased because E[∇ν(Z)] = 0; they matter most for small ε,
/// where the plain estimator's variance grows like 1/ε².
/// </summary>
public enum VarianceReduction
{
    /// <summary>Plain score-function estimator.</summary>
    None = 0,

    /// <summary>Replace each yₘ by yₘ − y*(θ): one extra, unperturbed solve per row.</summary>
    ControlVariate = 1,

    /// <summary>
    /// Leave-one-out baseline: each sample's weight is centred on the mean of the other samples, i.e.
    /// ⟨yₘ, g⟩ becomes (⟨yₘ, g⟩ − mean)·M/(M−1). No extra solve; needs at least 2 samples.
    /// </summary>
    LeaveOneOut = 2,
}
