using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Ranking;

/// <summary>Trainers of the label-ranking task.</summary>
public sealed class LabelRankingTrainers
{
    private readonly MLContext _mlContext;

    internal LabelRankingTrainers(MLContext mlContext) => _mlContext = mlContext;

    /// <summary>
    /// Perturbed Fenchel-Young label ranking (an affine model, the permutahedron head). Labels are rank vectors,
    /// 1 = most preferred.
    /// </summary>
    /// <param name="labelColumnName">Rank vectors (known size k).</param>
    /// <param name="featureColumnName">Features (known-size Single vector).</param>
    /// <param name="exampleWeightColumnName">Optional example-weight column (Single, finite, ≥ 0): training minimizes Σ wᵣLᵣ / Σ wᵣ; null (default) weighs rows equally.</param>
    /// <param name="epsilon">Noise scale ε; default 1.</param>
    /// <param name="numberOfIterations">Passes over the data; default 50.</param>
    /// <param name="learningRate">Learning rate; default 0.01.</param>
    public PerturbedTrainer PerturbedFenchelYoung(string labelColumnName = "Label", string featureColumnName = "Features",
        string? exampleWeightColumnName = null, double epsilon = StructuredLossOptions.DefaultEpsilon, int numberOfIterations = StructuredTrainerOptions.DefaultNumberOfIterations,
        double learningRate = StructuredTrainerOptions.DefaultLearningRate)
        => PerturbedFenchelYoung(new PerturbedLabelRankingOptions
        {
            LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName, ExampleWeightColumnName = exampleWeightColumnName,
            Epsilon = epsilon, NumberOfIterations = numberOfIterations,
            LearningRate = learningRate,
        });

    /// <summary>Perturbed label ranking with every option (the loss among them: FY, squared, perturbed squared, blackbox).</summary>
    public PerturbedTrainer PerturbedFenchelYoung(PerturbedLabelRankingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // The context's random source gives the seed unless one is set: new MLContext(seed: s) makes runs repeatable.
        return new PerturbedTrainer(((IHostEnvironment)_mlContext).Register("PerturbedLabelRanking"), new RankingHead(), options);
    }
}
