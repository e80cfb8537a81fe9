using System.Buffers;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Soft ranks or sorts by perturbation (Berthet et al. 2020): E[rank(θ + εZ)] or E[sort(θ + εZ)], with
/// score-function VJPs from the same samples. Ranks follow <see cref="SoftRank"/>'s convention (ascending: the
/// smallest value gets rank 1). Single precision only. Stochastic: each <c>draw</c> gets its own noise, the same draw the same
/// noise (a training loop passes a new draw at every step).
/// </summary>
internal sealed class PerturbedSorting : Layer
{
    private readonly PerturbedOptimizer _optimizer;
    private readonly bool _negate;

    /// <summary>Creates perturbed ranks (<paramref name="sort"/> false) or sorts (true) for rows of <paramref name="dimension"/> values.</summary>
    public PerturbedSorting(int dimension, bool sort, SortDirection direction, PerturbedOptimizerOptions options)
        : base(dimension, dimension)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(direction))
        {
            throw new ArgumentOutOfRangeException(nameof(direction), direction, "Unknown sort direction.");
        }
        // Descending ranks of θ are the ascending ranks of −θ; a descending sort is the ascending sort reversed.
        Oracle oracle = !sort
            ? new RankingOracle(dimension)
            : Oracle.Create(dimension, dimension, direction == SortDirection.Ascending ? SortAscending : SortDescending,
                $"Sort{direction}(d={dimension})");
        _optimizer = new PerturbedOptimizer(oracle, options);
        _negate = !sort && direction == SortDirection.Descending;
        Name = $"Perturbed{(sort ? "Sort" : "Rank")}{direction}(d={dimension}, ε={options.Epsilon}, M={options.Samples})";
    }

    /// <summary>The underlying perturbed optimizer.</summary>
    public PerturbedOptimizer Optimizer => _optimizer;

    /// <inheritdoc/>
    public override string Name { get; }

    /// <inheritdoc/>
    public override bool HasJvp => true;

    /// <inheritdoc/>
    public override bool IsStochastic => true;

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> theta, Span<float> solution, ulong draw = 0)
    {
        Guard.Rows(solution.Length, CheckInput(theta), OutputDimension, nameof(solution));
        if (!_negate)
        {
            _optimizer.Forward(theta, solution, draw);
            return;
        }
        float[] negated = Negated(theta);
        try
        {
            _optimizer.Forward(negated.AsSpan(0, theta.Length), solution, draw);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(negated);
        }
    }

    /// <inheritdoc/>
    public override void ForwardVjp(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
    {
        CheckVjp(theta, cotangent, solution, vjp);
        if (!_negate)
        {
            _optimizer.ForwardVjp(theta, cotangent, solution, vjp, draw);
            return;
        }
        // f(θ) = g(−θ): the VJP of f is minus g's VJP at −θ.
        float[] negated = Negated(theta);
        try
        {
            _optimizer.ForwardVjp(negated.AsSpan(0, theta.Length), cotangent, solution, vjp, draw);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(negated);
        }
        for (int i = 0; i < vjp.Length; i++) vjp[i] = -vjp[i];
    }

    /// <inheritdoc/>
    public override void ForwardJvp(ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw = 0)
    {
        CheckJvp(theta, tangent, solution, jvp);
        if (!_negate)
        {
            _optimizer.ForwardJvp(theta, tangent, solution, jvp, draw);
            return;
        }
        // f(θ) = g(−θ): J_f t = J_g(−θ) (−t).
        float[] negated = Negated(theta), negatedTangent = Negated(tangent);
        try
        {
            _optimizer.ForwardJvp(negated.AsSpan(0, theta.Length), negatedTangent.AsSpan(0, tangent.Length), solution, jvp, draw);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(negated);
            ArrayPool<float>.Shared.Return(negatedTangent);
        }
    }

    private static float[] Negated(ReadOnlySpan<float> values)
    {
        float[] negated = ArrayPool<float>.Shared.Rent(values.Length);
        for (int i = 0; i < values.Length; i++) negated[i] = -values[i];
        return negated;
    }

    private static void SortAscending(ReadOnlySpan<float> theta, Span<float> y)
    {
        theta.CopyTo(y);
        y.Sort();
    }

    private static void SortDescending(ReadOnlySpan<float> theta, Span<float> y)
    {
        theta.CopyTo(y);
        y.Sort();
        y.Reverse();
    }
}
