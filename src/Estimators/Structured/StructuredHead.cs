using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>The prediction head of a structured model.</summary>
public enum StructuredHeadKind
{
    /// <summary>Top-k selection (multilabel with k labels per row): predictions are 0/1 vectors with k ones.</summary>
    TopK = 0,

    /// <summary>Perfect matching of n rows to n columns: predictions are n×n permutation matrices, row-major.</summary>
    Matching = 1,
}

/// <summary>A head kind with its size parameter, and the oracle it solves.</summary>
/// <param name="Kind">Top-k or matching.</param>
/// <param name="Parameter">k for top-k, n for matching.</param>
/// <param name="Dimension">Length d of scores, targets and predictions (labels for top-k, n² for matching).</param>
internal readonly record struct StructuredHead(StructuredHeadKind Kind, int Parameter, int Dimension)
{
    public Oracle CreateOracle() => Kind == StructuredHeadKind.TopK ? new TopKOracle(Dimension, Parameter) : new MatchingOracle(Parameter);

    /// <summary>Checks one label row: k ones among zeros (top-k) or a permutation matrix (matching).</summary>
    public void CheckLabel(ReadOnlySpan<float> y, string column, long row)
    {
        foreach (float v in y)
        {
            if (v is not (0f or 1f))
            {
                throw new InvalidOperationException($"Column '{column}' row {row} holds {v}; labels must be 0/1 vectors.");
            }
        }
        if (Kind == StructuredHeadKind.TopK)
        {
            int ones = 0;
            foreach (float v in y) if (v == 1) ones++;
            if (ones != Parameter)
            {
                throw new InvalidOperationException($"Column '{column}' row {row} has {ones} labels set; the top-k head expects exactly k = {Parameter}.");
            }
            return;
        }
        int n = Parameter;
        for (int i = 0; i < n; i++)
        {
            int rowSum = 0, columnSum = 0;
            for (int j = 0; j < n; j++)
            {
                rowSum += (int)y[i * n + j];
                columnSum += (int)y[j * n + i];
            }
            if (rowSum != 1 || columnSum != 1)
            {
                throw new InvalidOperationException($"Column '{column}' row {row} is not an assignment: row or column {i} of the {n}×{n} matrix does not hold exactly one 1.");
            }
        }
    }
}
