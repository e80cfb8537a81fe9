namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// The items of one row of a <see cref="MultidimensionalKnapsackOracle"/> that may be packed — value &gt; 0 and fitting
/// alone in every dimension — in index order, with their values and weights by position, for its two searches
/// (<see cref="KnapsackBranchAndBound"/>, <see cref="KnapsackDominanceProgram"/>). A packing is a mask over positions:
/// bit p for candidate p, so comparing masks as integers compares indicator vectors read from the last item down (the
/// tie rule: the smallest mask among the best). One per thread, reused row after row.
/// </summary>
internal sealed class KnapsackCandidates
{
    /// <summary>Most items (a packing is a 64-bit mask).</summary>
    public const int MaxItems = 64;

    /// <summary>Resource dimensions m.</summary>
    public int Resources { get; private set; }

    /// <summary>Candidates k.</summary>
    public int Count { get; private set; }

    /// <summary>Item index of each candidate position.</summary>
    public readonly int[] Item = new int[MaxItems];

    /// <summary>Value θ of each candidate position (double).</summary>
    public readonly double[] Value = new double[MaxItems];

    /// <summary>Weights by dimension and position: <c>Weight[j · MaxItems + p]</c>.</summary>
    public int[] Weight = [];

    /// <summary>Capacity of each dimension.</summary>
    public int[] Capacity = [];

    /// <summary>Collects the candidates of a row: <paramref name="weights"/> <c>[m × n]</c>, <paramref name="capacities"/> <c>[m]</c>.</summary>
    public void Load(ReadOnlySpan<int> weights, ReadOnlySpan<int> capacities, ReadOnlySpan<float> theta)
    {
        int n = theta.Length, m = capacities.Length, k = 0;
        Resources = m;
        if (Weight.Length < m * MaxItems) (Weight, Capacity) = (new int[m * MaxItems], new int[m]);
        capacities.CopyTo(Capacity);
        for (int i = 0; i < n; i++)
        {
            if (!(theta[i] > 0)) continue;
            bool fits = true;
            for (int j = 0; j < m && fits; j++) fits = weights[j * n + i] <= capacities[j];
            if (!fits) continue;
            for (int j = 0; j < m; j++) Weight[j * MaxItems + k] = weights[j * n + i];
            (Item[k], Value[k]) = (i, theta[i]);
            k++;
        }
        Count = k;
    }

    /// <summary>The value of a packing: its candidates' values summed in index order (every search sums so).</summary>
    public double Sum(ulong mask)
    {
        double total = 0;
        for (ulong rest = mask; rest != 0; rest &= rest - 1) total += Value[System.Numerics.BitOperations.TrailingZeroCount(rest)];
        return total;
    }

    /// <summary>(value, mask) a beats b: a larger value, or the same value and a smaller mask.</summary>
    public static bool Better(double va, ulong ma, double vb, ulong mb) => va > vb || (va == vb && ma < mb);
}
