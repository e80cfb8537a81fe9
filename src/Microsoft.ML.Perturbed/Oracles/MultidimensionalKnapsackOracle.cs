using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// Multidimensional 0/1 knapsack (PyEPO's knapsack with <c>dim</c> resources; public through
/// <see cref="Oracle.MultidimensionalKnapsack"/>): y*(θ) = argmax ⟨y, θ⟩ over y ∈ {0, 1}ⁿ with Σᵢ wⱼᵢyᵢ ≤ Cⱼ in every
/// dimension j, for non-negative integer weights and capacities; θ are the items' values (an item of value ≤ 0 is never
/// packed). Exact depth-first branch and bound: items that cannot fit alone or have value ≤ 0 are dropped, a greedy
/// packing gives the first bound, and a node is cut when the fractional (LP) bound of its remaining items in some
/// dimension cannot beat the best packing; when every remaining item fits, they are all packed.
/// </summary>
/// <remarks>
/// Ties go to the packing whose indicator vector, read from the last item down, is smallest — the rule of
/// <see cref="KnapsackOracle"/>'s dynamic programme (an item is packed only when it strictly improves on the packings of
/// the items before it). The search visits packings in that order and keeps a later one only when its value (a double
/// sum of the items' values in index order) is strictly larger, so the rule holds up to the rounding of those sums.
/// Time grows with the packings that fit and beat the bound: small when few items fit at once (PyEPO's 32 items of weight
/// 3–8 under capacity 20: at most 6); many items of equal value and weight that fit in large numbers are its worst case.
/// Buffers per thread, O(n·m), reused.
/// </remarks>
internal sealed class MultidimensionalKnapsackOracle : Oracle
{
    /// <summary>Most items: a packing is a 64-bit mask.</summary>
    public const int MaxItems = 64;

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

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> theta, Span<float> solution)
    {
        Search search = t_search ??= new Search();
        ulong packed = search.Run(this, theta);
        solution.Clear();
        for (int p = 0; p < search.Candidates; p++)
        {
            if ((packed >> p & 1) != 0) solution[search.Item(p)] = 1;
        }
    }

    [ThreadStatic] private static Search? t_search;

    // The search state of one row: candidates (items that fit alone, value > 0) in index order, a packing as a mask over
    // candidate positions (bit p = candidate p, so masks order as indicator vectors read from the last item down).
    private sealed class Search
    {
        private int _m, _k;
        private int[] _item = new int[MaxItems], _weight = [], _order = [];
        private double[] _value = new double[MaxItems];
        private long[] _residual = [];
        private double _best;
        private ulong _bestMask;

        public int Candidates => _k;

        public int Item(int position) => _item[position];

        public ulong Run(MultidimensionalKnapsackOracle oracle, ReadOnlySpan<float> theta)
        {
            Prepare(oracle, theta);
            if (_k == 0) return 0;
            Greedy();
            Dive(_k, 0, 0);
            return _bestMask;
        }

        private void Prepare(MultidimensionalKnapsackOracle oracle, ReadOnlySpan<float> theta)
        {
            int n = oracle.Dimension, m = oracle.Resources;
            _m = m;
            _k = 0;
            if (_residual.Length < m) _residual = new long[m];
            if (_weight.Length < m * MaxItems) (_weight, _order) = (new int[m * MaxItems], new int[m * MaxItems]);
            for (int i = 0; i < n; i++)
            {
                if (!(theta[i] > 0)) continue;
                bool fits = true;
                for (int j = 0; j < m && fits; j++) fits = oracle._weights[j * n + i] <= oracle._capacities[j];
                if (!fits) continue;
                for (int j = 0; j < m; j++) _weight[j * MaxItems + _k] = oracle._weights[j * n + i];
                (_item[_k], _value[_k]) = (i, theta[i]);
                _k++;
            }
            for (int j = 0; j < m; j++)
            {
                _residual[j] = oracle._capacities[j];
                // Candidates by value per unit of weight in dimension j, best first (weight 0 first), lower position on ties.
                Span<int> order = _order.AsSpan(j * MaxItems, _k);
                int row = j * MaxItems;
                for (int p = 0; p < _k; p++)
                {
                    // Insertion sort: value_a/w_a > value_b/w_b ⇔ value_a·w_b > value_b·w_a (weights ≥ 0, values > 0).
                    int q = p;
                    for (; q > 0 && _value[p] * _weight[row + order[q - 1]] > _value[order[q - 1]] * _weight[row + p]; q--) order[q] = order[q - 1];
                    order[q] = p;
                }
            }
        }

        // A first packing: candidates by their total weight share Σⱼ wⱼ/Cⱼ per unit of value, added while they fit.
        private void Greedy()
        {
            (_best, _bestMask) = (0, 0);
            Span<long> left = stackalloc long[_m];
            _residual.AsSpan(0, _m).CopyTo(left);
            Span<int> order = stackalloc int[_k];
            Span<double> share = stackalloc double[_k];
            for (int p = 0; p < _k; p++)
            {
                double s = 0;
                for (int j = 0; j < _m; j++) s += _weight[j * MaxItems + p] / (double)Math.Max(1, _residual[j]);
                (order[p], share[p]) = (p, s / _value[p]);
            }
            share.Sort(order);
            ulong mask = 0;
            foreach (int p in order)
            {
                bool fits = true;
                for (int j = 0; j < _m && fits; j++) fits = _weight[j * MaxItems + p] <= left[j];
                if (!fits) continue;
                for (int j = 0; j < _m; j++) left[j] -= _weight[j * MaxItems + p];
                mask |= 1UL << p;
            }
            Leaf(mask);
        }

        // Candidates r..k − 1 are decided (mask), 0..r − 1 are open; the one decided next is r − 1: left out first, so the
        // leaves come in increasing mask order and a tie never replaces the packing found first.
        private void Dive(int r, double value, ulong mask)
        {
            if (r == 0)
            {
                Leaf(mask);
                return;
            }
            double bound = Bound(r, value, out bool allFit);
            if (allFit)
            {
                Leaf(mask | (r == 64 ? ulong.MaxValue : (1UL << r) - 1));
                return;
            }
            if (bound < _best || (bound <= _best && mask >= _bestMask)) return;
            Dive(r - 1, value, mask);
            int p = r - 1;
            for (int j = 0; j < _m; j++)
            {
                if (_weight[j * MaxItems + p] > _residual[j]) return;
            }
            for (int j = 0; j < _m; j++) _residual[j] -= _weight[j * MaxItems + p];
            Dive(r - 1, value + _value[p], mask | 1UL << p);
            for (int j = 0; j < _m; j++) _residual[j] += _weight[j * MaxItems + p];
        }

        // The smallest over dimensions of value + the fractional knapsack of the open candidates in the residual capacity;
        // allFit when every open candidate fits in every dimension at once (packing them all is then best).
        private double Bound(int r, double value, out bool allFit)
        {
            double bound = double.PositiveInfinity;
            allFit = true;
            for (int j = 0; j < _m; j++)
            {
                long left = _residual[j];
                double total = value;
                ReadOnlySpan<int> order = _order.AsSpan(j * MaxItems, _k);
                foreach (int p in order)
                {
                    if (p >= r) continue;
                    int w = _weight[j * MaxItems + p];
                    if (w <= left)
                    {
                        left -= w;
                        total += _value[p];
                    }
                    else
                    {
                        total += _value[p] * left / w;
                        allFit = false;
                        break;
                    }
                }
                bound = Math.Min(bound, total);
            }
            return bound;
        }

        // A complete packing: kept when its value, summed in index order, is larger, or equal with a smaller mask.
        private void Leaf(ulong mask)
        {
            double total = 0;
            for (ulong rest = mask; rest != 0; rest &= rest - 1) total += _value[System.Numerics.BitOperations.TrailingZeroCount(rest)];
            if (total > _best || (total == _best && mask < _bestMask)) (_best, _bestMask) = (total, mask);
        }
    }
}
