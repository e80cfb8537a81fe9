namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>Direction of a (soft) sort or rank.</summary>
public enum SortDirection
{
    /// <summary>Sort from smallest to largest; the smallest value gets rank 1.</summary>
    Ascending = 0,

    /// <summary>Sort from largest to smallest; the largest value gets rank 1.</summary>
    Descending = 1,
}
