// The runtime side of the compile-time publicized ML.NET references (docs/architecture.md, "ML.NET internals"): CoreCLR
// skips its visibility checks for the named assemblies when the calling assembly carries this attribute.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Transforms")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.StandardTrainers")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.OnnxConverter")]

// ML.NET's own loader registration: a model's header names this assembly, ML.NET loads it and finds our loaders here, so
// mlContext.Model.Load works in a fresh process without RegisterPerturbed().
[assembly: Microsoft.ML.LoadableClass(typeof(Microsoft.ML.Perturbed.Estimators.Heads.PerturbedPredictionTransformer), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Perturbed prediction", Microsoft.ML.Perturbed.Estimators.Heads.PerturbedPredictionTransformer.LoaderSignature)]
// Loader signatures of earlier versions: a clear refusal naming the component, its format and the library that reads it.
[assembly: Microsoft.ML.LoadableClass(typeof(Microsoft.ML.Perturbed.Estimators.Heads.PerturbedPredictionTransformer),
    typeof(Microsoft.ML.Perturbed.Estimators.ModelPersistence.RetiredModelLoader), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Retired perturbed predictor", "PerturbedLabelRanking", "PerturbedMulticlass", "PerturbedStructured")]
[assembly: Microsoft.ML.LoadableClass(typeof(Microsoft.ML.Perturbed.Estimators.Sorting.SoftSortingTransformer), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Perturbed soft sorting", Microsoft.ML.Perturbed.Estimators.Sorting.SoftSortingTransformer.LoaderSignature)]
[assembly: Microsoft.ML.LoadableClass(typeof(Microsoft.ML.Perturbed.Estimators.Sorting.KendallEmbeddingTransformer), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Perturbed Kendall embedding", Microsoft.ML.Perturbed.Estimators.Sorting.KendallEmbeddingTransformer.LoaderSignature)]

namespace System.Runtime.CompilerServices
{
    /// <summary>Recognized by the runtime (it has no public definition): lets this assembly use the named assembly's internals.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute(string assemblyName) : Attribute
    {
        /// <summary>The assembly whose internals are used.</summary>
        public string AssemblyName { get; } = assemblyName;
    }
}
