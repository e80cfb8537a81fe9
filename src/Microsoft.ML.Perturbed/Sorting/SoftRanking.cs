using Microsoft.ML.Perturbed.Layers;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>Creates soft rank and soft sort operators for any <see cref="SoftRankingMethod"/> from one options type.</summary>
public static class SoftRanking
{
    /// <summary>Soft ranks of rows of <paramref name="dimension"/> values (ascending: the smallest gets rank 1).</summary>
    public static Layer CreateRank(int dimension, SoftRankingOptions? options = null) => Create(dimension, options ?? new(), sort: false);

    /// <summary>Soft sort of rows of <paramref name="dimension"/> values.</summary>
    public static Layer CreateSort(int dimension, SoftRankingOptions? options = null) => Create(dimension, options ?? new(), sort: true);

    private static Layer Create(int dimension, SoftRankingOptions o, bool sort)
    {
        o.Validate();
        return Build(dimension, o, sort);
    }

    private static Layer Build(int dimension, SoftRankingOptions o, bool sort) => o.Method switch
    {
        SoftRankingMethod.PermutahedronL2 or SoftRankingMethod.PermutahedronKL => sort
            ? new SoftSort(dimension, o.Epsilon, Regularization(o.Method), o.Direction) { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }
            : new SoftRank(dimension, o.Epsilon, Regularization(o.Method), o.Direction) { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism },
        SoftRankingMethod.Sinkhorn => new SinkhornSorting(dimension, new SinkhornOptions
        {
            Output = sort ? SinkhornOutput.Sort : SinkhornOutput.Rank,
            Epsilon = o.Epsilon,
            Direction = o.Direction,
            Squashing = o.Squashing,
            Tolerance = o.Tolerance,
            MaxIterations = o.MaxIterations,
            ImplicitDifferentiation = o.ImplicitDifferentiation,
            MaxDegreeOfParallelism = o.MaxDegreeOfParallelism,
        }),
        SoftRankingMethod.Perturbed => new PerturbedSorting(dimension, sort, o.Direction, o.PerturbationSettings()),
        _ => throw new ArgumentOutOfRangeException(nameof(o), o.Method, "Unknown soft ranking method."),
    };

    private static SoftRegularization Regularization(SoftRankingMethod method) =>
        method == SoftRankingMethod.PermutahedronKL ? SoftRegularization.KL : SoftRegularization.L2;
}
