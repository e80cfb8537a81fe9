namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// How a row is mapped into [0, 1] before transport (Cuturi, Teboul, Vert 2019, §4): standardized to mean 0 and
/// standard deviation 1, then squashed, so that one ε works across input scales.
/// </summary>
public enum Squashing
{
    /// <summary>x̃ = 1/(1 + e^{−z}) with z the standardized value.</summary>
    Logistic = 0,

    /// <summary>x̃ = ½ + arctan(z)/π with z the standardized value.</summary>
    Arctan = 1,

    /// <summary>x̃ = x: no standardization; the inputs should already lie around [0, 1].</summary>
    None = 2,
}
