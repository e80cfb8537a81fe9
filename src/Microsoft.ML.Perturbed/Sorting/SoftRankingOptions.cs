namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// One settings type for every soft ranking and sorting method; each method reads the options that concern it. The
/// strength ε, the samples M, the noise, the seed and the parallelism are the perturbation settings of
/// <see cref="PerturbedOptimizerOptions"/> (defined there once; M, the noise, the kind and the variance reduction concern
/// the perturbed method only).
/// </summary>
public sealed class SoftRankingOptions : PerturbedOptimizerOptions
{
    /// <summary>The smoothing; default <see cref="SoftRankingMethod.PermutahedronL2"/>.</summary>
    public SoftRankingMethod Method { get; set; } = SoftRankingMethod.PermutahedronL2;

    /// <summary>Ascending (default) or descending.</summary>
    public SortDirection Direction { get; set; } = SortDirection.Ascending;

    /// <summary>Sinkhorn: input squashing; default logistic.</summary>
    public Squashing Squashing { get; set; } = Squashing.Logistic;

    /// <summary>Sinkhorn: marginal tolerance; default 1e-4.</summary>
    public double Tolerance { get; set; } = 1e-4;

    /// <summary>Sinkhorn: iteration cap; default 1000.</summary>
    public int MaxIterations { get; set; } = 1000;

    /// <summary>
    /// Sinkhorn: differentiate the converged plan implicitly instead of unrolling the iterations; default false (see
    /// <see cref="SinkhornOptions.ImplicitDifferentiation"/>: exact at convergence, so lower <see cref="Tolerance"/> with it).
    /// </summary>
    public bool ImplicitDifferentiation { get; set; }

    /// <summary>
    /// Checks the settings the chosen method reads. The strength ε (default 1) is the regularization of the permutahedron
    /// projection (finite, ≥ 0; 0 gives hard results), the entropic regularization of Sinkhorn (checked by
    /// <see cref="SinkhornSorting"/>: ≥ <see cref="SinkhornSorting.MinEpsilon"/>, on squashed values in [0, 1]; about 0.01 is
    /// sharp), or the noise scale of the perturbed method (every perturbation setting checked as for a
    /// <see cref="PerturbedOptimizer"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A setting is out of range; the exception names it.</exception>
    public override void Validate()
    {
        Check.Defined(Method, nameof(Method));
        Check.Defined(Direction, nameof(Direction));
        Check.Defined(Squashing, nameof(Squashing));
        switch (Method)
        {
            case SoftRankingMethod.Perturbed:
                base.Validate();
                return;
            case SoftRankingMethod.Sinkhorn:
                Check.InRange(Epsilon, SinkhornSorting.MinEpsilon, double.MaxValue, nameof(Epsilon));
                Check.AtLeast(MaxIterations, 1, nameof(MaxIterations));
                Check.FiniteNonNegative(Tolerance, nameof(Tolerance));
                break;
            case SoftRankingMethod.PermutahedronL2:
            case SoftRankingMethod.PermutahedronKL:
                Check.FiniteNonNegative(Epsilon, nameof(Epsilon));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(Method), Method, $"Unknown {nameof(SoftRankingMethod)} value {Method} for '{nameof(Method)}'.");
        }
        Check.Parallelism(MaxDegreeOfParallelism, nameof(MaxDegreeOfParallelism));
    }
}
