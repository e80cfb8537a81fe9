namespace Microsoft.ML.Perturbed.Training;

/// <summary>The first-order method that updates the model's parameters.</summary>
public enum GradientOptimizerKind
{
    /// <summary>Plain stochastic gradient descent, w ← w − η∇.</summary>
    Sgd = 0,

    /// <summary>Adam (Kingma &amp; Ba 2015) with β₁ = 0.9, β₂ = 0.999, ε̂ = 1e-8 (default).</summary>
    Adam = 1,

    /// <summary>
    /// AdaGrad (Duchi, Hazan &amp; Singer 2011): G ← G + ∇², w ← w − η∇ / (√G + 1e-10). One accumulator per parameter (half
    /// Adam's state), and a zero gradient moves nothing, so on sparse rows its lazy update is exactly the dense one (L2 = 0):
    /// the classic choice for wide sparse text features. Takes a larger learning rate than Adam (e.g. 0.1).
    /// </summary>
    AdaGrad = 2,
}
