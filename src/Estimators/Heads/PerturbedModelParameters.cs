using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// What a trained perturbed model is — the score model θ = g(x), the bound head that decodes θ, and the perturbation
/// (ε, noise) the head's smooth outputs use — as ML.NET's model parameters are what its prediction transformers wrap.
/// </summary>
public sealed class PerturbedModelParameters
{
    internal PerturbedModelParameters(IScoreModel scoreModel, PerturbedHead head, double epsilon, NoiseDistribution noise)
    {
        ArgumentNullException.ThrowIfNull(scoreModel);
        ArgumentNullException.ThrowIfNull(head);
        head.CheckBound("A model");
        if (scoreModel.Outputs != head.Dimension)
        {
            throw new ArgumentException($"The score model gives {scoreModel.Outputs} scores but the head {head} reads {head.Dimension}.", nameof(scoreModel));
        }
        ScoreModel = scoreModel;
        Head = head;
        Epsilon = epsilon;
        Noise = noise ?? throw new ArgumentNullException(nameof(noise));
    }

    /// <summary>The score model (an <see cref="AffineModel"/> or an <see cref="MlpModel"/>).</summary>
    public IScoreModel ScoreModel { get; }

    /// <summary>The head, bound to the training label.</summary>
    public PerturbedHead Head { get; }

    /// <summary>ε of the perturbation the model was trained with.</summary>
    public double Epsilon { get; }

    /// <summary>The noise the model was trained with.</summary>
    public NoiseDistribution Noise { get; }

    /// <summary>Number of features the model reads.</summary>
    public int FeatureCount => ScoreModel.Features;

    /// <summary>Whether the score model is affine (θ = W x + b), so that <see cref="Weights"/> and <see cref="Bias"/> exist.</summary>
    public bool IsLinear => ScoreModel is AffineModel;

    /// <summary>The feature weights W (d × p, row-major: one row per score) of an affine model.</summary>
    /// <exception cref="NotSupportedException">The score model is an MLP.</exception>
    public ReadOnlySpan<float> Weights => Affine.Weights;

    /// <summary>The bias b (d) of an affine model.</summary>
    /// <exception cref="NotSupportedException">The score model is an MLP.</exception>
    public ReadOnlySpan<float> Bias => Affine.Bias;

    private AffineModel Affine => ScoreModel as AffineModel
        ?? throw new NotSupportedException($"The score model is a {ScoreModel.GetType().Name}; only an affine model has one weight matrix.");
}
