using Microsoft.ML.Perturbed.Estimators.Ranking;
using Microsoft.ML.Perturbed.Estimators.Structured;

// The catalog entry points live in ML.NET's own namespace, as ML.NET's extension packages put theirs: `using Microsoft.ML;`
// is all an application needs to reach every entry point of this library.
namespace Microsoft.ML;

/// <summary>
/// Every ML.NET entry point of this library, as extension methods on ML.NET's catalogs: the tasks
/// (<c>mlContext.LabelRanking()</c>, <c>mlContext.StructuredPrediction()</c>), the multiclass trainer
/// (<c>mlContext.MulticlassClassification.Trainers.PerturbedFenchelYoung</c>), the transforms
/// (<c>mlContext.Transforms.SoftRank</c>, <c>SoftSort</c>, <c>QuantileNormalize</c>, <c>KendallEmbedding</c>), model
/// operations (<c>mlContext.Model.LoadChecked</c>, <c>ExportToOnnx</c>), sweeps (<c>mlContext.Sweep</c>) and the component
/// registration. One class, split over files named <c>PerturbedCatalog.*.cs</c> in the folders of the types each part serves.
/// </summary>
public static partial class PerturbedCatalog
{
    /// <summary>The label-ranking task: <c>mlContext.LabelRanking().Trainers.PerturbedFenchelYoung()</c>, <c>Evaluate</c>, <c>CrossValidate</c>.</summary>
    public static LabelRankingCatalog LabelRanking(this MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new LabelRankingCatalog(mlContext);
    }

    /// <summary>
    /// Top-k, matching, shortest paths, knapsack and a user's own solver: <c>mlContext.StructuredPrediction().Trainers.TopK(k)</c>,
    /// <c>.Matching(n)</c>, <c>.ShortestPath(…)</c>, <c>.Perturbed(head)</c>…, and their evaluators.
    /// </summary>
    public static StructuredPredictionCatalog StructuredPrediction(this MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new StructuredPredictionCatalog(mlContext);
    }
}
