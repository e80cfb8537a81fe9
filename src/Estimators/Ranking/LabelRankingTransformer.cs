using Microsoft.ML.Perturbed.Estimators.Heads;

namespace Microsoft.ML.Perturbed.Estimators.Ranking;

/// <summary>
/// A trained label-ranking model (<see cref="PerturbedHeads.Ranking"/>): scores θ = g(x) for the k labels, and the predicted ranking of
/// the labels (1 = most preferred, the label with the largest score). Appends <c>Score</c> (Vector&lt;Single&gt;, k) and
/// <c>PredictedRanking</c> (Vector&lt;Single&gt;, k), with the label's slot names when it has them. Saves into ML.NET zips
/// (see <see cref="PerturbedComponents.RegisterPerturbed"/>).
/// </summary>
public sealed class LabelRankingTransformer : PerturbedPredictionTransformer
{
    /// <summary>Default name of the scores column.</summary>
    public const string ScoreColumnName = "Score";

    /// <summary>Default name of the predicted ranking column.</summary>
    public const string PredictedRankingColumnName = "PredictedRanking";

    internal LabelRankingTransformer(PerturbedModelParameters parameters, string featureColumnName) : base(parameters, featureColumnName)
    {
    }

    /// <summary>Number of labels k.</summary>
    public int LabelCount => Model.Outputs;
}
