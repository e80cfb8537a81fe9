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
        if (!Enum.IsDefined(Operation) || !Enum.IsDefined(Method) || !Enum.IsDefined(Direction) || !Enum.IsDefined(Squashing))
        {
            throw new ArgumentOutOfRangeException(nameof(SoftSortingOptions), "Unknown operation, method, direction or squashing.");
        }
        bool hardAllowed = Method is SoftRankingMethod.PermutahedronL2 or SoftRankingMethod.PermutahedronKL;
        if (!double.IsFinite(Epsilon) || Epsilon < 0 || (!hardAllowed && Epsilon == 0))
        {
            throw new ArgumentOutOfRangeException(nameof(SoftSortingOptions.Epsilon), Epsilon,
                $"'{nameof(SoftSortingOptions.Epsilon)}' must be a finite number {(hardAllowed ? "≥ 0" : "> 0")} for {Method}, got {Epsilon}.");
        }
        if (Operation == SoftSortingOperation.QuantileNormalize && Method == SoftRankingMethod.Perturbed)
        {
            throw new ArgumentOutOfRangeException(nameof(SoftSortingOptions.Method), Method,
                "Quantile normalization supports the permutahedron (L2, KL) and Sinkhorn methods, not the perturbed one.");
        }
        if (Samples < 1 || MaxIterations < 1 || !(Tolerance >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(SoftSortingOptions), $"'{nameof(SoftSortingOptions.Samples)}' and '{nameof(SoftSortingOptions.MaxIterations)}' must be ≥ 1 and '{nameof(SoftSortingOptions.Tolerance)}' ≥ 0.");
        }
    }

    /// <summary>The core operator for vectors of <paramref name="size"/> slots (targets: quantile normalization only).</summary>
    public Layer CreateOperator(int size, double[]? targets)
    {
        var options = new SoftRankingOptions
        {
            Method = Method, Epsilon = Epsilon, Direction = Direction, Samples = Samples, Seed = Seed,
            MaxIterations = MaxIterations, Tolerance = Tolerance, Squashing = Squashing, MaxDegreeOfParallelism = 1,
        };
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
