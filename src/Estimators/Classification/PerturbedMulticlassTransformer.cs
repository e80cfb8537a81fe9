using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Noise;

namespace Microsoft.ML.Perturbed.Estimators.Classification;

/// <summary>
/// A multiclass model trained with the perturbed Fenchel-Young loss over the simplex (<see cref="MulticlassHead"/>). Appends
/// the columns ML.NET's multiclass evaluator reads: <c>Score</c> = ŷ_ε(θ), the class probabilities of the perturbed
/// argmax (slot names = class names) — exactly softmax(θ/ε) for Gumbel noise (the default), a deterministic Monte-Carlo
/// estimate with <see cref="ScoringSamples"/> samples for normal noise — and <c>PredictedLabel</c> (argmax θ, a key with
/// the label's own key values). <c>mlContext.MulticlassClassification.Evaluate</c> and <c>CrossValidate</c> work on its output.
/// </summary>
public sealed class PerturbedMulticlassTransformer : PerturbedPredictionTransformer
{
    /// <summary>Noise samples of the Monte-Carlo scores under normal noise (fixed seed, so scoring is deterministic).</summary>
    public const int ScoringSamples = MulticlassHead.ScoringSamples;

    internal PerturbedMulticlassTransformer(PerturbedModelParameters parameters, string featureColumnName) : base(parameters, featureColumnName)
    {
    }

    /// <summary>ε of the perturbation.</summary>
    public double Epsilon => Parameters.Epsilon;

    /// <summary>The noise the model was trained with; it defines the scores.</summary>
    public NoiseDistribution Noise => Parameters.Noise;

    /// <summary>Class names (the label's key values as text), in key order.</summary>
    public IReadOnlyList<string> ClassNames => ((MulticlassHead)Parameters.Head).ClassNames;
}
