using Microsoft.ML.Perturbed.Estimators.Ranking;

// The catalog entry points live in ML.NET's own namespace, as ML.NET's extension packages put theirs: `using Microsoft.ML;`
// is all an application needs to reach mlContext.LabelRanking() and mlContext.StructuredPrediction().
namespace Microsoft.ML;

/// <summary>Entry point of the label-ranking task.</summary>
public static class LabelRankingCatalogExtensions
{
    /// <summary>The label-ranking task: <c>mlContext.LabelRanking().Trainers.PerturbedFenchelYoung()</c>, <c>Evaluate</c>, <c>CrossValidate</c>.</summary>
    public static LabelRankingCatalog LabelRanking(this MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new LabelRankingCatalog(mlContext);
    }
}
