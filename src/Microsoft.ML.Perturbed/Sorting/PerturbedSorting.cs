using System.Buffers;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Soft ranks or sorts by perturbation (Berthet et al. 2020): E[rank(θ + εZ)] or E[sort(θ + εZ)], with
/// score-function VJPs from the same samples. Ranks follow <see cref="SoftRank"/>'s convention (ascending: the
/// smallest value gets rank 1). Single precision only.
/// </summary>
public sealed class PerturbedSorting : ISoftOperator
{
    private readonly PerturbedOptimizer _optimizer;
    private readonly bool _descending;

    /// <summary>Creates perturbed ranks (<paramref name="sort"/> false) or sorts (true) for rows of <paramref name="dimension"/> values.</summary>
    public PerturbedSorting(int dimension, bool sort, SortDirection direction, PerturbedOptimizerOptions options)
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
        _descending = !sort && direction == SortDirection.Descending;
    }

    /// <summary>The underlying perturbed optimizer.</summary>
    public PerturbedOptimizer Optimizer => _optimizer;

    /// <inheritdoc/>
    public int Dimension => _optimizer.Oracle.Dimension;

    /// <inheritdoc/>
    public int OutputDimension => _optimizer.Oracle.OutputDimension;

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<float> values, Span<float> result)
    {
        Guard.Rows(result.Length, Guard.RowCount(values.Length, Dimension, nameof(values)), OutputDimension, nameof(result));
        if (!_descending)
        {
            _optimizer.Forward(values, result);
            return;
        }
        float[] negated = Negated(values);
        try
        {
            _optimizer.Forward(negated.AsSpan(0, values.Length), result);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(negated);
        }
    }

    /// <inheritdoc/>
    public void ForwardVjp(ReadOnlySpan<float> values, ReadOnlySpan<float> cotangent, Span<float> result, Span<float> vjp)
    {
        int batch = Guard.RowCount(values.Length, Dimension, nameof(values));
        Guard.Rows(result.Length, batch, OutputDimension, nameof(result));
        Guard.Rows(vjp.Length, batch, Dimension, nameof(vjp));
        if (!_descending)
        {
            _optimizer.ForwardVjp(values, cotangent, result, vjp);
            return;
        }
        float[] negated = Negated(values);
        try
        {
            _optimizer.ForwardVjp(negated.AsSpan(0, values.Length), cotangent, result, vjp);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(negated);
        }
        for (int i = 0; i < vjp.Length; i++) vjp[i] = -vjp[i];
    }

    /// <summary>−θ in a pooled buffer (return it to the shared pool).</summary>
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
