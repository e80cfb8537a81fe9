using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>The oracle of <see cref="Oracle.Knapsack"/>, documented there.</summary>
internal sealed class KnapsackOracle : Oracle
{
    private readonly int[] _weights;

    /// <summary>Creates the oracle.</summary>
    /// <param name="weights">Item weights, non-negative integers.</param>
    /// <param name="capacity">Capacity W ≥ 0.</param>
    public KnapsackOracle(IReadOnlyList<int> weights, int capacity)
        : base(Guard.NonEmpty(weights, nameof(weights), "item weight"), weights.Count)
    {
        if (capacity < 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"'{nameof(capacity)}' must be ≥ 0.");
        for (int i = 0; i < weights.Count; i++)
        {
            if (weights[i] < 0) throw new ArgumentOutOfRangeException(nameof(weights), weights[i], $"Item {i} has weight {weights[i]}; weights must be ≥ 0.");
        }
        if ((long)weights.Count * ((long)capacity + 1) > 1 << 26)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"The dynamic programme over {weights.Count} items × capacity {capacity} exceeds 2²⁶ cells.");
        }
        _weights = weights.ToArray();
        Capacity = capacity;
    }

    /// <summary>The item weights.</summary>
    public IReadOnlyList<int> Weights => _weights;

    /// <summary>The capacity W.</summary>
    public int Capacity { get; }

    /// <inheritdoc/>
    public override string Name => $"Knapsack(n={Dimension}, W={Capacity})";

    /// <inheritdoc/>
    public override LinearLoss LinearTaskLoss => LinearLosses.ZeroOneSquared;

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> theta, Span<float> solution)
    {
        int n = Dimension, w = Capacity + 1;
        if (t_value is null || t_value.Length < w) t_value = new double[w];
        if (t_take is null || t_take.Length < n * w) t_take = new bool[n * w];
        Span<double> value = t_value.AsSpan(0, w);
        Span<bool> take = t_take.AsSpan(0, n * w);
        value.Clear();
        // value[c] = best value with capacity c over items 0..i; take[i·w + c] records whether item i is packed there.
        for (int i = 0; i < n; i++)
        {
            int wi = _weights[i];
            Span<bool> row = take.Slice(i * w, w);
            row.Clear();
            if (!(theta[i] > 0)) continue;
            for (int c = Capacity; c >= wi; c--)
            {
                double with = value[c - wi] + theta[i];
                if (with > value[c])
                {
                    value[c] = with;
                    row[c] = true;
                }
            }
        }
        solution.Clear();
        for (int i = n - 1, c = Capacity; i >= 0; i--)
        {
            if (take[i * w + c])
            {
                solution[i] = 1;
                c -= _weights[i];
            }
        }
    }

    [ThreadStatic] private static double[]? t_value;
    [ThreadStatic] private static bool[]? t_take;
}
