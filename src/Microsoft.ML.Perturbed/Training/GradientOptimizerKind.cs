namespace Microsoft.ML.Perturbed.Training;

/// <summary>The first-order method that updates the model's parameters.</summary>
public enum GradientOptimizerKind
{
    /// <summary>Plain stochastic gradient descent, w ← w − η∇.</summary>
    Sgd = 0,

    /// <summary>Adam (Kingma &amp; Ba 2015) with β₁ = 0.9, β₂ = 0.999, ε̂ = 1e-8 (default).</summary>
    Adam = 1,
}
