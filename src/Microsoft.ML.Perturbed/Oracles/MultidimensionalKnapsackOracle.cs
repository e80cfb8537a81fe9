using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// Multidimensional 0/1 knapsack (PyEPO's knapsack with <c>dim</c> resources; public through
/// <see cref="Oracle.MultidimensionalKnapsack"/>): y*(θ) = argmax ⟨y, θ⟩ over y ∈ {0, 1}ⁿ with Σᵢ wⱼᵢyᵢ ≤ Cⱼ in every
/// dimension j, for non-negative integer weights and capacities; θ are the items' values (an item of value ≤ 0, or too
/// heavy alone, is never packed). Exact, in two steps per row: a depth-first branch and bound
/// (<see cref="KnapsackBranchAndBound"/>) settles most rows in a few nodes; a row it has not settled within
/// <see cref="NodeBudget"/> nodes goes to dynamic programming over the capacities that keeps only non-dominated packings
/// (<see cref="KnapsackDominanceProgram"/>: at most one state per load vector, a few hundred on PyEPO's instances), which
/// bounds what a row costs where branch and bound would explode (many light items of similar value). On PyEPO's rows
/// (true values with ties, and trained models' predictions) branch and bound alone is the faster: 0.1–0.3 ms a row on
/// average, 2 ms at worst, against the programme's 0.4–0.8 ms.
/// </summary>
/// <remarks>
/// Ties go to the packing whose indicator vector, read from the last item down, is smallest — the rule of
/// <see cref="KnapsackOracle"/>'s dynamic programme (an item is packed only when it strictly improves on the packings of
/// the items before it); both searches follow it, on values summed in index order in double, so it holds up to the
/// rounding of those sums and the two give the same packings (tested). Buffers per thread, reused.
/// </remarks>
internal sealed class MultidimensionalKnapsackOracle : Oracle
{
    /// <summary>Most items: a packing is a 64-bit mask.</summary>
    public const int MaxItems = KnapsackCandidates.MaxItems;

    /// <summary>Most resource dimensions.</summary>
    public const int MaxDimensions = 64;

    private readonly int[] _weights;       // [dimension × item]
    private readonly int[] _capacities;

    /// <summary>Creates the oracle.</summary>
    /// <param name="weights">weights[j][i]: item i's weight in dimension j, integers ≥ 0; every dimension lists the same items.</param>
    /// <param name="capacities">Capacity Cⱼ ≥ 0 of each dimension.</param>
    public MultidimensionalKnapsackOracle(IReadOnlyList<IReadOnlyList<int>> weights, IReadOnlyList<int> capacities)
        : base(ItemCount(weights), ItemCount(weights))
    {
        ArgumentNullException.ThrowIfNull(capacities);
        int m = weights.Count, n = Dimension;
        if (capacities.Count != m)
        {
            throw new ArgumentException($"Expected one capacity per dimension ({m}), got {capacities.Count}.", nameof(capacities));
        }
        _weights = new int[m * n];
        _capacities = new int[m];
        for (int j = 0; j < m; j++)
        {
            if (capacities[j] < 0) throw new ArgumentOutOfRangeException(nameof(capacities), capacities[j], $"Dimension {j} has capacity {capacities[j]}; capacities must be ≥ 0.");
            _capacities[j] = capacities[j];
            for (int i = 0; i < n; i++)
            {
                int w = weights[j][i];
                if (w < 0) throw new ArgumentOutOfRangeException(nameof(weights), w, $"Item {i} has weight {w} in dimension {j}; weights must be ≥ 0.");
                _weights[j * n + i] = w;
            }
        }
    }

    /// <summary>Number m of resource dimensions.</summary>
    public int Resources => _capacities.Length;

    /// <summary>Item <paramref name="item"/>'s weight in dimension <paramref name="dimension"/>.</summary>
    public int Weight(int dimension, int item) => _weights[dimension * Dimension + item];

    /// <summary>The capacity of dimension <paramref name="dimension"/>.</summary>
    public int Capacity(int dimension) => _capacities[dimension];

    /// <inheritdoc/>
    public override string Name => $"MultidimensionalKnapsack(n={Dimension}, m={Resources})";

    /// <inheritdoc/>
    public override LinearLoss LinearTaskLoss => LinearLosses.ZeroOneSquared;

    private static int ItemCount(IReadOnlyList<IReadOnlyList<int>> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count is 0 or > MaxDimensions)
        {
            throw new ArgumentException($"Expected 1 to {MaxDimensions} dimensions of item weights, got {weights.Count}.", nameof(weights));
        }
        int n = weights[0]?.Count ?? throw new ArgumentException("Dimension 0 of the weights is null.", nameof(weights));
        if (n is 0 or > MaxItems) throw new ArgumentException($"Expected 1 to {MaxItems} items, got {n}.", nameof(weights));
        for (int j = 1; j < weights.Count; j++)
        {
            if (weights[j] is null || weights[j].Count != n)
            {
                throw new ArgumentException($"Dimension {j} lists {weights[j]?.Count.ToString() ?? "no"} item weights, dimension 0 lists {n}; every dimension weighs the same items.", nameof(weights));
            }
        }
        return n;
    }

    /// <summary>
    /// Branch-and-bound nodes a row may take before the dominance programme solves it: 2¹⁵ by default, about the cost of the
    /// programme on the hardest PyEPO rows measured (PyEPO's rows take at most a few thousand); tests set 0 (the programme
    /// alone) or <see cref="int.MaxValue"/> (branch and bound alone).
    /// </summary>
    internal int NodeBudget { get; init; } = 1 << 15;

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> theta, Span<float> solution)
    {
        KnapsackCandidates candidates = t_candidates ??= new KnapsackCandidates();
        candidates.Load(_weights, _capacities, theta);
        if (!(t_branch ??= new KnapsackBranchAndBound()).TryRun(candidates, NodeBudget, out ulong packed))
        {
            packed = (t_program ??= new KnapsackDominanceProgram()).Run(candidates);
        }
        solution.Clear();
        for (int p = 0; p < candidates.Count; p++)
        {
            if ((packed >> p & 1) != 0) solution[candidates.Item[p]] = 1;
        }
    }

    [ThreadStatic] private static KnapsackCandidates? t_candidates;
    [ThreadStatic] private static KnapsackBranchAndBound? t_branch;
    [ThreadStatic] private static KnapsackDominanceProgram? t_program;
}
