using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Runtime;

// Extension methods in ML.NET's own namespace (see PerturbedCatalog.cs).
namespace Microsoft.ML;

// Part of PerturbedCatalog: Makes ML.NET able to load the components of this library from model zips.
public static partial class PerturbedCatalog
{
    /// <summary>
    /// Registers this library's loaders with an <see cref="MLContext"/>'s component catalog, so that
    /// <c>mlContext.Model.Load</c> recreates our transformers as themselves. Not needed any more: ML.NET finds the loaders
    /// through the <c>[LoadableClass]</c> attributes of this assembly, which a saved model's header names; kept so that code
    /// written for earlier versions compiles. Idempotent and cheap.
    /// </summary>
    /// <exception cref="NotSupportedException">The running ML.NET is not a version whose internals this library supports.</exception>
    public static void RegisterPerturbed(this ComponentCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        MlNetInternals.RegisterAssembly(catalog, typeof(PerturbedCatalog).Assembly);
    }

    /// <summary>Registers with the environment behind a catalog such as <c>mlContext.Transforms</c>.</summary>
    internal static void RegisterWith(object mlNetCatalog) => MlNetInternals.EnvironmentOf(mlNetCatalog).ComponentCatalog.RegisterPerturbed();
}
