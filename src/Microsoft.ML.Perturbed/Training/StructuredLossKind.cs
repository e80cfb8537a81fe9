namespace Microsoft.ML.Perturbed.Training;

/// <summary>The loss a structured trainer minimizes over scores θ = g_w(x) for targets y (Berthet et al. 2020, §5).</summary>
public enum StructuredLossKind
{
    /// <summary>Perturbed Fenchel-Young loss: gradient ŷ_ε(θ) − y, convex in θ (default).</summary>
    FenchelYoung = 0,

    /// <summary>½‖y − ŷ_ε(θ)‖², back-propagated through the perturbed optimizer's VJP.</summary>
    PerturbedSquared = 1,

    /// <summary>½‖y − θ‖² on the scores themselves (the papers' simplest baseline; no solver in training).</summary>
    SquaredScores = 2,

    /// <summary>
    /// Blackbox differentiation (Vlastelica et al. 2020) of ½‖y − y*(θ)‖²: with g = y*(θ) − y, the gradient is
    /// (y*(θ) − y*(θ − λg))/λ for our maximizing oracles, one extra solve per row.
    /// </summary>
    Blackbox = 3,
}
