namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// Depth-first branch and bound over a row's <see cref="KnapsackCandidates"/>, for the rows where few nodes settle it: a
/// greedy packing (value per unit of Σⱼ wⱼ/Cⱼ) first, then the packings in increasing mask order (the last candidate
/// decided first, left out first), a node cut when the fractional (LP) bound of its open candidates in some dimension cannot
/// beat the best, or can only tie it with larger masks; all open candidates packed when they all fit. A later packing
/// replaces the best only when its value is larger, so the best is the smallest mask among the best values. Gives up after
/// a node budget (then <see cref="KnapsackDominanceProgram"/> solves the row). One per thread; allocation-free once warm.
/// </summary>
internal sealed class KnapsackBranchAndBound
{
    private KnapsackCandidates _c = null!;
    private int[] _order = [];
    private long[] _residual = [];
    private double _best;
    private ulong _bestMask;
    private int _nodesLeft;

    /// <summary>The best packing's mask, or false when the search needed more than <paramref name="nodeBudget"/> nodes.</summary>
    public bool TryRun(KnapsackCandidates candidates, int nodeBudget, out ulong mask)
    {
        _c = candidates;
        int m = candidates.Resources, k = candidates.Count;
        mask = 0;
        if (k == 0) return true;
        if (_residual.Length < m) (_residual, _order) = (new long[m], new int[m * KnapsackCandidates.MaxItems]);
        for (int j = 0; j < m; j++)
        {
            _residual[j] = candidates.Capacity[j];
            // Candidates by value per unit of weight in dimension j, best first (weight 0 first), lower position on ties.
            Span<int> order = _order.AsSpan(j * KnapsackCandidates.MaxItems, k);
            int row = j * KnapsackCandidates.MaxItems;
            for (int p = 0; p < k; p++)
            {
                // Insertion sort: value_a/w_a > value_b/w_b ⇔ value_a·w_b > value_b·w_a (weights ≥ 0, values > 0).
                int q = p;
                for (; q > 0 && candidates.Value[p] * candidates.Weight[row + order[q - 1]] > candidates.Value[order[q - 1]] * candidates.Weight[row + p]; q--) order[q] = order[q - 1];
                order[q] = p;
            }
        }
        Greedy();
        _nodesLeft = nodeBudget;
        Dive(k, 0, 0);
        mask = _bestMask;
        return _nodesLeft >= 0;
    }

    private void Greedy()
    {
        int m = _c.Resources, k = _c.Count;
        (_best, _bestMask) = (0, 0);
        Span<long> left = stackalloc long[m];
        _residual.AsSpan(0, m).CopyTo(left);
        Span<int> order = stackalloc int[k];
        Span<double> share = stackalloc double[k];
        for (int p = 0; p < k; p++)
        {
            double s = 0;
            for (int j = 0; j < m; j++) s += _c.Weight[j * KnapsackCandidates.MaxItems + p] / (double)Math.Max(1, _residual[j]);
            (order[p], share[p]) = (p, s / _c.Value[p]);
        }
        share.Sort(order);
        ulong mask = 0;
        foreach (int p in order)
        {
            if (!Fits(p, left)) continue;
            for (int j = 0; j < m; j++) left[j] -= _c.Weight[j * KnapsackCandidates.MaxItems + p];
            mask |= 1UL << p;
        }
        Leaf(mask);
    }

    private bool Fits(int p, ReadOnlySpan<long> left)
    {
        for (int j = 0; j < _c.Resources; j++)
        {
            if (_c.Weight[j * KnapsackCandidates.MaxItems + p] > left[j]) return false;
        }
        return true;
    }

    // Candidates r..k − 1 are decided (mask), 0..r − 1 are open; the one decided next is r − 1.
    private void Dive(int r, double value, ulong mask)
    {
        if (--_nodesLeft < 0) return;
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
        int p = r - 1, m = _c.Resources;
        if (!Fits(p, _residual.AsSpan(0, m))) return;
        for (int j = 0; j < m; j++) _residual[j] -= _c.Weight[j * KnapsackCandidates.MaxItems + p];
        Dive(r - 1, value + _c.Value[p], mask | 1UL << p);
        for (int j = 0; j < m; j++) _residual[j] += _c.Weight[j * KnapsackCandidates.MaxItems + p];
    }

    // The smallest over dimensions of value + the fractional knapsack of the open candidates in the residual capacity;
    // allFit when every open candidate fits in every dimension at once (packing them all is then best).
    private double Bound(int r, double value, out bool allFit)
    {
        double bound = double.PositiveInfinity;
        allFit = true;
        for (int j = 0; j < _c.Resources; j++)
        {
            long left = _residual[j];
            double total = value;
            foreach (int p in _order.AsSpan(j * KnapsackCandidates.MaxItems, _c.Count))
            {
                if (p >= r) continue;
                int w = _c.Weight[j * KnapsackCandidates.MaxItems + p];
                if (w <= left)
                {
                    left -= w;
                    total += _c.Value[p];
                }
                else
                {
                    total += _c.Value[p] * left / w;
                    allFit = false;
                    break;
                }
            }
            bound = Math.Min(bound, total);
        }
        return bound;
    }

    private void Leaf(ulong mask)
    {
        double total = _c.Sum(mask);
        if (KnapsackCandidates.Better(total, mask, _best, _bestMask)) (_best, _bestMask) = (total, mask);
    }
}
