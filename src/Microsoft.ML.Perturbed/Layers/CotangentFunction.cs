namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// Supplies the upstream gradient g of one row once its forward output ŷ is known, so that a loss of ŷ (such as
/// ½‖ŷ − y‖²) can be back-propagated with the forward samples, without solving again.
/// </summary>
/// <param name="row">Row index in the batch.</param>
/// <param name="solution">The row's ŷ_ε(θ).</param>
/// <param name="cotangent">Destination for g = ∂loss/∂ŷ (length <c>OutputDimension</c>); every entry must be written.</param>
public delegate void CotangentFunction(int row, ReadOnlySpan<float> solution, Span<float> cotangent);
