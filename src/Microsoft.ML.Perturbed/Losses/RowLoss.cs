namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// A loss of one row of a layer's output ŷ against its target y: returns the value and writes the cotangent ∂ℓ/∂ŷ.
/// </summary>
/// <param name="solution">The row's ŷ.</param>
/// <param name="target">The row's target.</param>
/// <param name="cotangent">Destination for ∂ℓ/∂ŷ; every entry must be written.</param>
public delegate double RowLoss(ReadOnlySpan<float> solution, ReadOnlySpan<float> target, Span<float> cotangent);
