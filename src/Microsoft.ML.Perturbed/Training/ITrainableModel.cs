namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// A score model the managed training loop can fit: its parameters as one flat vector, and the backward pass from a
/// batch's score gradients to the parameter gradient. <see cref="AffineModel"/> and <see cref="MlpModel"/> implement it.
/// </summary>
public interface ITrainableModel : IScoreModel
{
    /// <summary>Every parameter, in a fixed order; the training loop updates it in place.</summary>
    Span<float> Parameters { get; }

    /// <summary>
    /// Writes into <paramref name="gradient"/> (one entry per parameter) the gradient of (1/batch) Σ_rows ⟨gᵣ, θᵣ(x)⟩ for
    /// the score gradients <paramref name="scoreGradient"/> = ∂loss/∂θ, plus <paramref name="l2"/>·w for every weight (not the
    /// biases): the gradient of the mean loss with L2 regularization ½λ‖W‖².
    /// </summary>
    void Backward(ReadOnlySpan<float> features, ReadOnlySpan<float> scoreGradient, double l2, Span<double> gradient);

    /// <summary>A copy of this model (the same parameters, independent storage).</summary>
    ITrainableModel Clone();

    /// <summary>The model restricted to its first <paramref name="outputs"/> scores (drops extra outputs such as a learned noise scale).</summary>
    ITrainableModel FirstOutputs(int outputs);
}
