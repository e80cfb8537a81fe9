namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// Exact dynamic programming over a row's <see cref="KnapsackCandidates"/> and the capacities of every dimension, keeping
/// only the packings no other dominates: after candidate p, the states are the packings of candidates 0..p that fit, each
/// (load per dimension, value, mask), less every state that another matches or beats in every load with a better (value,
/// mask) — whatever completes a dominated packing completes its dominator at least as well (the completions add higher
/// bits, so masks compare as before), so the best survives. At most one state per load vector, Π(Cⱼ + 1), and in practice
/// far fewer: about 80 on average and 650 at most after a candidate on PyEPO's 32 items of weights 300–799 under capacity
/// 2000 in two dimensions (measured on true values and trained models' predictions). One sweep per
/// candidate: the states stay sorted by load vector, those adding the candidate are a shifted sorted copy, the two are
/// merged, and a state is kept when no kept state before it has loads ≤ its own and a better (value, mask) — a running best
/// in one dimension, a Fenwick tree of prefix bests over the compressed second loads in two, a scan of the kept states in
/// more. Values are sums in index order, as every search sums. One per thread, buffers grown and reused.
/// </summary>
internal sealed class KnapsackDominanceProgram
{
    /// <summary>Most states a row may hold (a larger one is refused).</summary>
    public const int MaxStates = 1 << 22;

    private KnapsackCandidates _c = null!;
    private int _m, _count;
    private int[] _load = [], _nextLoad = [];
    private double[] _value = [], _nextValue = [];
    private ulong[] _mask = [], _nextMask = [];

    /// <summary>The mask of the best packing: the largest value, the smallest mask among equal values.</summary>
    /// <exception cref="InvalidOperationException">The row needs more than <see cref="MaxStates"/> states.</exception>
    public ulong Run(KnapsackCandidates candidates)
    {
        _c = candidates;
        (_m, _count) = (candidates.Resources, 1);
        Reserve(ref _load, ref _value, ref _mask, 2);
        Array.Clear(_load, 0, _m);
        (_value[0], _mask[0]) = (0, 0);
        for (int p = 0; p < candidates.Count; p++) Add(p);
        int best = 0;
        for (int s = 1; s < _count; s++)
        {
            if (KnapsackCandidates.Better(_value[s], _mask[s], _value[best], _mask[best])) best = s;
        }
        return _mask[best];
    }

    // Room for `states` states of _m loads each, the contents kept.
    private void Reserve(ref int[] load, ref double[] value, ref ulong[] mask, int states)
    {
        if (value.Length >= states && load.Length >= states * _m) return;
        int size = Math.Max(states, 2 * value.Length);
        Array.Resize(ref load, size * _m);
        Array.Resize(ref value, size);
        Array.Resize(ref mask, size);
    }

    // The states after item i: the old states merged with those that add item i (both sorted by load vector, so the
    // merge is sorted), less the dominated ones.
    private void Add(int p)
    {
        int m = _m, count = _count;
        double v = _c.Value[p];
        ulong bit = 1UL << p;
        if (2L * count > MaxStates)
        {
            throw new InvalidOperationException($"A knapsack row needs more than {MaxStates} non-dominated packings (capacities too large for the weights); scale the weights and capacities down.");
        }
        Reserve(ref _nextLoad, ref _nextValue, ref _nextMask, 2 * count);
        Span<int> w = stackalloc int[m];
        for (int j = 0; j < m; j++) w[j] = _c.Weight[j * KnapsackCandidates.MaxItems + p];
        int[] capacities = _c.Capacity;
        BeginSweep(w, capacities, count);
        int a = 0, b = 0, kept = 0;
        while (a < count || b < count)
        {
            // The next shifted state (b) that fits; shifted states that do not fit are skipped.
            while (b < count && !FitsShifted(b, w, capacities)) b++;
            bool takeOld;
            if (b >= count) takeOld = a < count;
            else if (a >= count) takeOld = false;
            else
            {
                int c = CompareShifted(a, b, w);
                takeOld = c < 0 || (c == 0 && KnapsackCandidates.Better(_value[a], _mask[a], _value[b] + v, _mask[b] | bit));
            }
            if (!takeOld && b >= count) break;
            int load = kept * m;
            if (takeOld)
            {
                _load.AsSpan(a * m, m).CopyTo(_nextLoad.AsSpan(load, m));
                (_nextValue[kept], _nextMask[kept]) = (_value[a], _mask[a]);
                a++;
            }
            else
            {
                for (int j = 0; j < m; j++) _nextLoad[load + j] = _load[b * m + j] + w[j];
                (_nextValue[kept], _nextMask[kept]) = (_value[b] + v, _mask[b] | bit);
                b++;
            }
            if (!Dominated(kept)) kept++;
        }
        (_load, _nextLoad) = (_nextLoad, _load);
        (_value, _nextValue) = (_nextValue, _value);
        (_mask, _nextMask) = (_nextMask, _mask);
        _count = kept;
    }

    private bool FitsShifted(int s, ReadOnlySpan<int> w, int[] capacities)
    {
        for (int j = 0; j < _m; j++)
        {
            if ((long)_load[s * _m + j] + w[j] > capacities[j]) return false;
        }
        return true;
    }

    // Lexicographic order of old state a's loads against shifted state b's (old loads + w).
    private int CompareShifted(int a, int b, ReadOnlySpan<int> w)
    {
        for (int j = 0; j < _m; j++)
        {
            long x = _load[a * _m + j], y = (long)_load[b * _m + j] + w[j];
            if (x != y) return x < y ? -1 : 1;
        }
        return 0;
    }

    // The sweep's structure for two dimensions: a Fenwick tree of prefix bests, by (value, mask), over the second loads
    // of this item's states, compressed (sorted, distinct) into _axis.
    private int[] _axis = [];
    private double[] _treeValue = [];
    private ulong[] _treeMask = [];
    private int _axisCount;
    private double _runningValue;
    private ulong _runningMask;

    private void BeginSweep(ReadOnlySpan<int> w, int[] capacities, int count)
    {
        (_runningValue, _runningMask) = (double.NegativeInfinity, ulong.MaxValue);
        if (_m != 2) return;
        if (_axis.Length < 2 * count) _axis = new int[Math.Max(2 * count, 2 * _axis.Length)];
        int u = 0;
        for (int s = 0; s < count; s++)
        {
            _axis[u++] = _load[2 * s + 1];
            if (FitsShifted(s, w, capacities)) _axis[u++] = _load[2 * s + 1] + w[1];
        }
        Span<int> axis = _axis.AsSpan(0, u);
        axis.Sort();
        int distinct = 0;
        for (int i = 0; i < u; i++)
        {
            if (distinct == 0 || axis[i] != axis[distinct - 1]) axis[distinct++] = axis[i];
        }
        _axisCount = distinct;
        if (_treeValue.Length <= distinct) (_treeValue, _treeMask) = (new double[2 * distinct + 1], new ulong[2 * distinct + 1]);
        _treeValue.AsSpan(0, distinct + 1).Fill(double.NegativeInfinity);
        _treeMask.AsSpan(0, distinct + 1).Fill(ulong.MaxValue);
    }

    // Whether candidate state s (in the next buffer, after the kept states 0..s − 1, which come no later in load order)
    // is dominated by a kept state; if not, it joins the sweep's structure.
    private bool Dominated(int s)
    {
        int m = _m;
        double v = _nextValue[s];
        ulong mask = _nextMask[s];
        if (m == 1)
        {
            // Every kept state has a load ≤ this one: the running best decides.
            if (KnapsackCandidates.Better(_runningValue, _runningMask, v, mask)) return true;
            (_runningValue, _runningMask) = (v, mask);
            return false;
        }
        if (m == 2)
        {
            // Kept states all have a first load ≤ this one; the best of those with a second load ≤ this one decides.
            int position = _axis.AsSpan(0, _axisCount).BinarySearch(_nextLoad[2 * s + 1]) + 1;
            double bestValue = double.NegativeInfinity;
            ulong bestMask = ulong.MaxValue;
            for (int i = position; i > 0; i -= i & -i)
            {
                if (KnapsackCandidates.Better(_treeValue[i], _treeMask[i], bestValue, bestMask)) (bestValue, bestMask) = (_treeValue[i], _treeMask[i]);
            }
            if (KnapsackCandidates.Better(bestValue, bestMask, v, mask)) return true;
            for (int i = position; i <= _axisCount; i += i & -i)
            {
                if (KnapsackCandidates.Better(v, mask, _treeValue[i], _treeMask[i])) (_treeValue[i], _treeMask[i]) = (v, mask);
            }
            return false;
        }
        for (int t = 0; t < s; t++)
        {
            if (!KnapsackCandidates.Better(_nextValue[t], _nextMask[t], v, mask)) continue;
            bool below = true;
            for (int j = 1; j < m && below; j++) below = _nextLoad[t * m + j] <= _nextLoad[s * m + j];
            if (below) return true;
        }
        return false;
    }
}
