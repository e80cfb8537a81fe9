using Microsoft.ML.Perturbed.Estimators;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Estimators.Sorting;
using Microsoft.ML.Runtime;

// Extension methods in ML.NET's own namespace (see PerturbedCatalogExtensions.cs).
namespace Microsoft.ML;

/// <summary>Makes ML.NET able to load the components of this library from model zips.</summary>
public static class PerturbedComponents
{
    /// <summary>
    /// Registers this library's loaders with an <see cref="MLContext"/>'s component catalog, so that
    /// <c>mlContext.Model.Load</c> recreates our transformers as themselves. Building a pipeline with our catalog methods
    /// registers automatically; call this once before loading a model in a context that has not, e.g. in a fresh process:
    /// <code>mlContext.ComponentCatalog.RegisterPerturbed();</code>
    /// Idempotent and cheap.
    /// </summary>
    /// <exception cref="NotSupportedException">The running ML.NET is not a version whose internals this library supports.</exception>
    public static void RegisterPerturbed(this ComponentCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        const System.Reflection.BindingFlags loader = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static;
        MlNetInternals.Register(catalog, typeof(SoftSortingTransformer), SoftSortingTransformer.LoaderSignature,
            typeof(SoftSortingTransformer).GetMethod(nameof(SoftSortingTransformer.Create), loader)!);
        MlNetInternals.Register(catalog, typeof(PerturbedPredictionTransformer), PerturbedPredictionTransformer.LoaderSignature,
            typeof(PerturbedPredictionTransformer).GetMethod(nameof(PerturbedPredictionTransformer.Create), loader)!);
    }

    /// <summary>Registers with the environment behind a catalog such as <c>mlContext.Transforms</c>.</summary>
    internal static void RegisterWith(object mlNetCatalog) => MlNetInternals.EnvironmentOf(mlNetCatalog).ComponentCatalog.RegisterPerturbed();
}
