using Microsoft.ML.Perturbed.Estimators.Classification;
using Microsoft.ML.Runtime;

// Extension methods in ML.NET's own namespace (see PerturbedCatalogExtensions.cs).
namespace Microsoft.ML;

/// <summary><c>mlContext.MulticlassClassification.Trainers</c> extensions.</summary>
public static class PerturbedMulticlassCatalog
{
    /// <summary>
    /// Multiclass classification with the perturbed Fenchel-Young loss (Gumbel noise: the scores are softmax(θ/ε)).
    /// Output columns match ML.NET's multiclass trainers, so <c>Evaluate</c> and <c>CrossValidate</c> apply.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Key-typed label column.</param>
    /// <param name="featureColumnName">Features (known-size Single vector).</param>
    /// <param name="epsilon">Noise scale ε.</param>
    /// <param name="epochs">Passes over the data.</param>
    public static PerturbedMulticlassTrainer PerturbedFenchelYoung(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", double epsilon = 1.0, int epochs = 30)
        => catalog.PerturbedFenchelYoung(new PerturbedMulticlassOptions
        {
            LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName, Epsilon = epsilon, Epochs = epochs,
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
