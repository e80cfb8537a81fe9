using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Noise;

namespace Microsoft.ML.Perturbed.Estimators.Classification;

/// <summary>
/// A multiclass model trained with the perturbed Fenchel-Young loss over the simplex (<see cref="PerturbedHeads.Multiclass"/>). Appends
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

    /// <summary>
    /// The same classifier as ML.NET's own maximum-entropy model: under Gumbel noise the scores are softmax(θ/ε) with
    /// θ = W x + b, which is ML.NET's multinomial logistic model with weights W/ε and bias b/ε. Its zip loads with plain
    /// ML.NET, in an application that does not reference this library.
    /// </summary>
    /// <param name="mlContext">The context.</param>
    /// <param name="inputSchema">The schema of the data the model scores (it must hold the key-typed label, for its key values).</param>
    /// <param name="labelColumnName">The label column.</param>
    /// <exception cref="NotSupportedException">The model was trained with normal noise (its scores are no softmax) or is an MLP.</exception>
    public Microsoft.ML.Data.MulticlassPredictionTransformer<Microsoft.ML.Trainers.MaximumEntropyModelParameters> ToMaximumEntropy(MLContext mlContext,
        Microsoft.ML.DataViewSchema inputSchema, string labelColumnName = "Label")
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (Noise is not GumbelNoise) throw new NotSupportedException($"Only Gumbel-noise models are softmax classifiers; this one was trained with {Noise.Name} noise.");
        if (!Parameters.IsLinear) throw new NotSupportedException("Only an affine score model is a maximum-entropy model; this one is an MLP.");
        float inverse = (float)(1 / Epsilon);
        float[] weights = Parameters.Weights.ToArray(), bias = Parameters.Bias.ToArray();
        for (int i = 0; i < weights.Length; i++) weights[i] *= inverse;
        for (int i = 0; i < bias.Length; i++) bias[i] *= inverse;
        return Microsoft.ML.Perturbed.Estimators.ModelPersistence.MlNetModels.MaximumEntropy(mlContext, weights, bias, Parameters.Head.Dimension,
            Parameters.FeatureCount, ClassNames.ToArray(), inputSchema, FeatureColumnName, labelColumnName);
    }
}
