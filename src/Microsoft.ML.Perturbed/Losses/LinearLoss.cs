namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// A task loss that is linear in the prediction: ℓ(y, ŷ) = ⟨t(y), ŷ⟩ + c(y). Writes t for the target row and returns c.
/// </summary>
public delegate double LinearLoss(ReadOnlySpan<float> target, Span<float> coefficients);
