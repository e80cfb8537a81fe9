using Microsoft.ML.Perturbed.Estimators.Heads;

namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>
/// A trained top-k or matching model (<see cref="TopKHead"/>, <see cref="MatchingHead"/>): appends <c>Score</c> (θ) and
/// <c>Prediction</c> (the head's solution on θ: a 0/1 vector with k ones, or an n×n permutation matrix, row-major).
/// Saves into ML.NET zips.
/// </summary>
public sealed class StructuredPredictionTransformer : PerturbedPredictionTransformer
{
    /// <summary>Name of the predicted structure column.</summary>
    public const string PredictionColumnName = DecisionHead.PredictionColumnName;

    internal StructuredPredictionTransformer(PerturbedModelParameters parameters, string featureColumnName) : base(parameters, featureColumnName)
    {
        if (parameters.Head is not (TopKHead or MatchingHead))
        {
            throw new ArgumentException($"A structured prediction transformer holds a top-k or matching head, not {parameters.Head}.", nameof(parameters));
        }
    }

    /// <summary>Top-k or matching.</summary>
    public StructuredHeadKind Head => Parameters.Head is TopKHead ? StructuredHeadKind.TopK : StructuredHeadKind.Matching;

    /// <summary>k (top-k) or n (matching).</summary>
    public int HeadParameter => Parameters.Head switch
    {
        TopKHead top => top.K,
        MatchingHead matching => matching.N,
        _ => throw new InvalidOperationException($"Unexpected head {Parameters.Head}."),
    };
}
