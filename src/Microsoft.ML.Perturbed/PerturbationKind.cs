namespace Microsoft.ML.Perturbed;

/// <summary>How noise enters the scores.</summary>
public enum PerturbationKind
{
    /// <summary>η = θ + εZ (Berthet et al. 2020, §3).</summary>
    Additive = 0,

    /// <summary>
    /// η = θ ⊙ exp(εZ − ε²/2) with standard normal Z, for positive scores such as costs: keeps signs, and the ε²/2
    /// makes E[η] = θ. The Jacobian estimator uses the score Z/(εθ) (Berthet et al. 2020, §3, multiplicative case).
    /// </summary>
    Multiplicative = 1,
}
