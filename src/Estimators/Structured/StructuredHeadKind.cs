using Microsoft.ML.Perturbed.Estimators.Heads;

namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>The prediction head of a top-k or matching model.</summary>
public enum StructuredHeadKind
{
    /// <summary>Top-k selection (multilabel with k labels per row): predictions are 0/1 vectors with k ones.</summary>
    TopK = 0,

    /// <summary>Perfect matching of n rows to n columns: predictions are n×n permutation matrices, row-major.</summary>
    Matching = 1,
}
