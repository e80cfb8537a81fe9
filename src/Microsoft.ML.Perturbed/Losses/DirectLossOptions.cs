namespace Microsoft.ML.Perturbed.Losses;

/// <summary>Settings of <see cref="DirectLossMinimization"/>.</summary>
internal sealed class DirectLossOptions
{
    /// <summary>Loss perturbation ε ≠ 0; negative (default −1) is the "towards better" direction of the paper.</summary>
    public double Epsilon { get; set; } = -1;

    /// <summary>
    /// How many times |ε| is grown (multiplied by <see cref="EpsilonGrowth"/>) for a sample whose loss-perturbed solution
    /// equals the plain one while its task loss is positive (task losses are ≥ 0 and 0 at the target); default 3.
    /// </summary>
    public int MaxEpsilonDoublings { get; set; } = 3;

    /// <summary>Factor by which |ε| grows on each retry, greater than 1; default 2 (the paper's code grows it by 10 %: 1.1).</summary>
    public double EpsilonGrowth { get; set; } = 2;

    /// <summary>
    /// A fixed noise scale σ ≥ 0 instead of the learned one: the model then gives only the d scores μ (σ = 0 is plain direct
    /// loss minimization on y*(μ), the paper's σ̄ = 0 column). Null (default): σ = softplus(v) from one more model output.
    /// </summary>
    public double? NoiseScale { get; set; }

    /// <summary>Gumbel samples γ per row and step, averaged; default 1.</summary>
    public int Samples { get; set; } = 1;

    /// <summary>
    /// Zero-mean Gumbel noise γ − γ_Euler (location −0.5772, as in the paper) instead of the standard Gumbel law
    /// (location 0). It matters only when solutions differ in their sums (paths of varying length); default true.
    /// </summary>
    public bool ZeroMeanNoise { get; set; } = true;

    /// <summary>Seed of the noise.</summary>
    public int Seed { get; set; }
}
