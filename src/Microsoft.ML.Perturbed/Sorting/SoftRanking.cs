using Microsoft.ML.Perturbed.Layers;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>Creates soft rank and soft sort operators for any <see cref="SoftRankingMethod"/> from one options type.</summary>
public static class SoftRanking
{
    /// <summary>
    /// Soft ranks of rows of <paramref name="dimension"/> values (ascending: the smallest gets rank 1). Permutahedron methods
    /// (Blondel et al. 2020, §5): r_ε(θ) = P(ρ, θ/ε) with ρ = (n, n−1, …, 1); ranks sum to n(n+1)/2, tend to the exact ranks
    /// (ties averaged) as ε → 0 and to (n+1)/2 as ε → ∞; exact VJP and JVP, O(n log n). Example (ascending, L2): the soft ranks
    /// of [5, 1, 2] are [3, 1.25, 1.75] at ε = 2 and [3, 1, 2] at ε = 1. Sinkhorn: n·a⁻¹ ⊙ P·cumsum(b) (see
    /// <see cref="SinkhornOutput.Rank"/>). Perturbed: the Monte-Carlo mean of the ranks of θ + εZ.
    /// </summary>
    /// <param name="dimension">Length n of a row.</param>
    /// <param name="options">The method and its settings; default the L2 permutahedron at ε = 1, ascending.</param>
    /// <returns>A layer; the permutahedron and Sinkhorn operators are <see cref="RowOperator"/>s (a double-precision path).</returns>
    /// <exception cref="ArgumentException">A setting the method reads is out of range; the exception names it.</exception>
    public static Layer CreateRank(int dimension, SoftRankingOptions? options = null) => Create(dimension, options ?? new(), sort: false);

    /// <summary>
    /// Soft sort of rows of <paramref name="dimension"/> values. Permutahedron methods: s_ε(θ) = P(θ, ρ/ε); the output is sorted
    /// in the requested direction and lies in [min θ, max θ]; it tends to the exact sort as ε → 0 and, as ε → ∞, to the mean
    /// (L2) or to the log-mean-exp sign·(LSE(sign·θ) − log n) (KL). L2 keeps the sum; KL keeps LSE(sign·out) = LSE(sign·θ),
    /// not the sum (sign = −1 ascending, +1 descending). Only ε·θ sets the smoothing. Example (ascending, L2): the soft sort of
    /// [5, 1, 2] is [1.667, 2.667, 3.667] at ε = 1 and [1, 2, 5] at ε = 0.1. Sinkhorn: b⁻¹ ⊙ Pᵀx (see
    /// <see cref="SinkhornOutput.Sort"/>). Perturbed: the Monte-Carlo mean of the sorts of θ + εZ.
    /// </summary>
    /// <param name="dimension">Length n of a row.</param>
    /// <param name="options">The method and its settings; default the L2 permutahedron at ε = 1, ascending.</param>
    /// <returns>A layer; the permutahedron and Sinkhorn operators are <see cref="RowOperator"/>s (a double-precision path).</returns>
    /// <exception cref="ArgumentException">A setting the method reads is out of range; the exception names it.</exception>
    public static Layer CreateSort(int dimension, SoftRankingOptions? options = null) => Create(dimension, options ?? new(), sort: true);

    /// <summary>
    /// Quantile normalization of rows of <c>targets.Length</c> values, hard (ε = 0) or soft (ε &gt; 0): each row keeps its
    /// order and its values are replaced by the target quantiles f — the smallest value gets the smallest target (ascending).
    /// Hard: Ψ_f(θ) = Π_σ(θ)ᵀ f, a run of tied values sharing the mean of their targets. Soft: the projection of θ/ε onto the
    /// permutahedron of f (soft ranks are the case f = (1, …, n)), exact VJP and JVP; L2 keeps Σ output = Σ f.
    /// Permutahedron methods only (Sinkhorn's is <see cref="SinkhornOutput.QuantileNormalize"/> of a <see cref="SinkhornSorting"/>).
    /// </summary>
    /// <param name="targets">Target quantiles f (any order; finite; positive for KL).</param>
    /// <param name="options">The method (<see cref="SoftRankingMethod.PermutahedronL2"/>, default, or
    /// <see cref="SoftRankingMethod.PermutahedronKL"/>), ε (default 1; 0 for the hard normalization), direction and parallelism.</param>
    /// <exception cref="ArgumentException">A target is not finite (or not positive for KL), or a setting is out of range; the exception names it.</exception>
    /// <exception cref="NotSupportedException">The method is Sinkhorn or perturbed.</exception>
    public static RowOperator CreateQuantileNormalization(ReadOnlySpan<double> targets, SoftRankingOptions? options = null)
    {
        options ??= new SoftRankingOptions();
        options.Validate();
        if (options.Method is not (SoftRankingMethod.PermutahedronL2 or SoftRankingMethod.PermutahedronKL))
        {
            throw new NotSupportedException($"Quantile normalization to given targets is a permutahedron method; {options.Method} is not (Sinkhorn's is SinkhornOutput.QuantileNormalize of a SinkhornSorting).");
        }
        return new SoftQuantileNormalization(targets, options.Epsilon, Regularization(options.Method), options.Direction)
        {
            MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
        };
    }

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
