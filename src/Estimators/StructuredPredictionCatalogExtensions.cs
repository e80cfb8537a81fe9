using Microsoft.ML.Perturbed.Estimators.Structured;

// The catalog entry points live in ML.NET's own namespace, as ML.NET's extension packages put theirs: `using Microsoft.ML;`
// is all an application needs to reach mlContext.LabelRanking() and mlContext.StructuredPrediction().
namespace Microsoft.ML;

/// <summary>Entry point of the structured prediction tasks.</summary>
public static class StructuredPredictionCatalogExtensions
{
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
