using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>The validated, immutable settings a <see cref="SoftSortingTransformer"/> saves and rebuilds its operators from.</summary>
internal sealed record SoftSortingSettings(
    SoftSortingOperation Operation,
    SoftRankingMethod Method,
    double Epsilon,
    SortDirection Direction,
    int Samples,
    int Seed,
    int MaxIterations,
    double Tolerance,
    Squashing Squashing)
{
    public static SoftSortingSettings From(SoftSortingOperation operation, SoftSortingOptions o) =>
        new(operation, o.Method, o.Epsilon, o.Direction, o.Samples, o.Seed, o.MaxIterations, o.Tolerance, o.Squashing);

    /// <summary>Checks every setting; the message names the option and what was expected.</summary>
    public void Validate()
    {
        Check.Defined(Operation, nameof(Operation));
        if (Operation == SoftSortingOperation.QuantileNormalize && Method == SoftRankingMethod.Perturbed)
        {
            throw new ArgumentOutOfRangeException(nameof(SoftSortingOptions.Method), Method,
                "Quantile normalization supports the permutahedron (L2, KL) and Sinkhorn methods, not the perturbed one.");
        }
        Options().Validate();   // the core's checks of the chosen method, once, under the same option names
    }

    /// <summary>The core settings of these options (one row at a time: the transform parallelizes over cursors, not rows).</summary>
    private SoftRankingOptions Options() => new()
    {
        Method = Method, Epsilon = Epsilon, Direction = Direction, Samples = Samples, Seed = Seed,
        MaxIterations = MaxIterations, Tolerance = Tolerance, Squashing = Squashing, MaxDegreeOfParallelism = 1,
    };

    public Layer CreateOperator(int size, double[]? targets)
    {
        SoftRankingOptions options = Options();
        return Operation switch
        {
            SoftSortingOperation.Rank => SoftRanking.CreateRank(size, options),
            SoftSortingOperation.Sort => SoftRanking.CreateSort(size, options),
            SoftSortingOperation.QuantileNormalize when Method == SoftRankingMethod.Sinkhorn => new SinkhornSorting(size, new SinkhornOptions
            {
                Output = SinkhornOutput.QuantileNormalize, TargetValues = targets!.Order().ToArray(), Epsilon = Epsilon, Direction = Direction,
                MaxIterations = MaxIterations, Tolerance = Tolerance, Squashing = Squashing, MaxDegreeOfParallelism = 1,
            }),
            SoftSortingOperation.QuantileNormalize => new SoftQuantileNormalization(targets, Epsilon,
                Method == SoftRankingMethod.PermutahedronKL ? SoftRegularization.KL : SoftRegularization.L2, Direction) { MaxDegreeOfParallelism = 1 },
            _ => throw new InvalidOperationException($"Unknown soft sorting operation {Operation}."),
        };
    }
}
