using Microsoft.ML.Perturbed.Estimators.Classification;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

// Extension methods in ML.NET's own namespace (see PerturbedCatalog.cs).
namespace Microsoft.ML;

// Part of PerturbedCatalog: <c>mlContext.MulticlassClassification.Trainers</c> extensions.
public static partial class PerturbedCatalog
{
    /// <summary>
    /// Multiclass classification with the perturbed Fenchel-Young loss (Gumbel noise: the scores are softmax(θ/ε)).
    /// Output columns match ML.NET's multiclass trainers, so <c>Evaluate</c> and <c>CrossValidate</c> apply.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Key-typed label column.</param>
    /// <param name="featureColumnName">Features (known-size Single vector).</param>
    /// <param name="exampleWeightColumnName">Optional example-weight column (Single, finite, ≥ 0): training minimizes Σ wᵣLᵣ / Σ wᵣ; null (default) weighs rows equally.</param>
    /// <param name="epsilon">Noise scale ε; default 1.</param>
    /// <param name="numberOfIterations">Passes over the data; default 50.</param>
    /// <param name="learningRate">Learning rate; default 0.01.</param>
    public static PerturbedMulticlassTrainer PerturbedFenchelYoung(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", string? exampleWeightColumnName = null, double epsilon = StructuredLossOptions.DefaultEpsilon,
        int numberOfIterations = StructuredTrainerOptions.DefaultNumberOfIterations, double learningRate = StructuredTrainerOptions.DefaultLearningRate)
        => catalog.PerturbedFenchelYoung(new PerturbedMulticlassOptions
        {
            LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName, ExampleWeightColumnName = exampleWeightColumnName,
            Epsilon = epsilon, NumberOfIterations = numberOfIterations,
            LearningRate = learningRate,
        });

    /// <summary>The perturbed multiclass trainer with every option.</summary>
    public static PerturbedMulticlassTrainer PerturbedFenchelYoung(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        PerturbedMulticlassOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        IHostEnvironment env = Microsoft.ML.Perturbed.Estimators.ModelPersistence.MlNetInternals.EnvironmentOf(catalog);
        env.ComponentCatalog.RegisterPerturbed();
        return new PerturbedMulticlassTrainer(env.Register("PerturbedMulticlass"), options);
    }
}
