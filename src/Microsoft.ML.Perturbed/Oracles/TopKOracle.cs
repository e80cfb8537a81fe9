namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// Top-k over C = {y ∈ [0,1]^d : Σy = k}: y*(θ) is the indicator of the k largest scores. Ties prefer the lower
/// index. Expected O(d) by quickselect.
/// </summary>
public sealed class TopKOracle : Oracle
{
    /// <summary>Creates the oracle selecting <paramref name="k"/> of <paramref name="dimension"/> entries.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is outside [1, <paramref name="dimension"/>].</exception>
    public TopKOracle(int dimension, int k) : base(dimension, dimension)
    {
        if (k < 1 || k > dimension)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"'k' must be in [1, {dimension}] (the dimension), got {k}.");
        }
        K = k;
    }

    /// <summary>Number of entries selected.</summary>
    public int K { get; }

    /// <inheritdoc/>
    public override string Name => $"TopK(k={K}, d={Dimension})";

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> theta, Span<float> solution)
    {
        solution.Clear();
        if (K == 1)
        {
            solution[ArgmaxOracle.IndexOfMax(theta)] = 1f;
            return;
        }
        Span<ulong> keys = SortKeys.Scratch(theta.Length);
        SortKeys.Fill(theta, keys);
        SortKeys.SelectSmallest(keys, K);
        for (int i = 0; i < K; i++)
        {
            solution[SortKeys.Index(keys[i])] = 1f;
        }
    }
}
