namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// The pool Γ of distinct solutions that the losses over a solution pool (<see cref="PoolLoss"/>) contrast against
/// (docs/architecture.md, "Losses"): rows of <see cref="Dimension"/> floats in the order they joined, deduplicated by
/// content (−0 equals 0). A solution joins in two steps: <see cref="Stage"/> puts it after the pool, where
/// <see cref="IndexOf"/> and <see cref="Committed"/> do not see it, and <see cref="Commit"/> makes every staged solution a
/// member. Lookups may run on many threads at once while nothing is staged or committed; staging and committing are
/// serial (the loss stages in row order, so the pool's order does not depend on threads).
/// </summary>
internal sealed class SolutionPool
{
    private float[] _rows = [];
    private int _count, _staged;
    // Open addressing over the rows' content: slot = row + 1, 0 = empty; at most half full.
    private int[] _slots = new int[16];

    /// <summary>Creates an empty pool of solutions of <paramref name="dimension"/> values.</summary>
    public SolutionPool(int dimension)
    {
        Guard.Positive(dimension, nameof(dimension));
        Dimension = dimension;
    }

    /// <summary>Length of a solution.</summary>
    public int Dimension { get; }

    /// <summary>Members |Γ| (staged solutions not counted).</summary>
    public int Count => _count;

    /// <summary>Staged solutions waiting for <see cref="Commit"/>.</summary>
    public int StagedCount => _staged;

    /// <summary>The members, row after row: <c>[Count × Dimension]</c>.</summary>
    public ReadOnlySpan<float> Committed => _rows.AsSpan(0, _count * Dimension);

    /// <summary>Member <paramref name="index"/> (0 ≤ index &lt; <see cref="Count"/>).</summary>
    public ReadOnlySpan<float> Row(int index) => _rows.AsSpan(index * Dimension, Dimension);

    /// <summary>The position of <paramref name="solution"/> among the members, or −1 (also when it is only staged).</summary>
    public int IndexOf(ReadOnlySpan<float> solution)
    {
        int found = Find(solution, Hash(solution));
        return found < _count ? found : -1;
    }

    /// <summary>Stages <paramref name="solution"/> unless it is a member or staged already; returns whether it was staged.</summary>
    /// <exception cref="InvalidOperationException">The pool would pass <see cref="Array.MaxLength"/> values.</exception>
    public bool Stage(ReadOnlySpan<float> solution)
    {
        int d = Dimension;
        uint hash = Hash(solution);
        if (Find(solution, hash) >= 0) return false;
        int total = _count + _staged;
        if ((long)(total + 1) * d > Array.MaxLength)
        {
            throw new InvalidOperationException($"The solution pool holds {total} distinct solutions of {d} values; one more exceeds an array's {Array.MaxLength} values.");
        }
        if (_rows.Length < (total + 1) * d) Array.Resize(ref _rows, (int)Math.Min(Array.MaxLength, Math.Max(16L * d, 2L * (total + 1) * d)));
        solution.CopyTo(_rows.AsSpan(total * d, d));
        _staged++;
        if (2L * (total + 1) > _slots.Length) Rehash(2 * _slots.Length);
        Insert(total, hash);
        return true;
    }

    /// <summary>Makes every staged solution a member, in the order they were staged.</summary>
    public void Commit()
    {
        _count += _staged;
        _staged = 0;
    }

    /// <summary>Empties the pool (members and staged solutions).</summary>
    public void Clear()
    {
        _count = _staged = 0;
        Array.Clear(_slots);
    }

    private int Find(ReadOnlySpan<float> solution, uint hash)
    {
        int mask = _slots.Length - 1, d = Dimension;
        for (int slot = (int)(hash & (uint)mask); ; slot = (slot + 1) & mask)
        {
            int entry = _slots[slot];
            if (entry == 0) return -1;
            if (Equal(_rows.AsSpan((entry - 1) * d, d), solution)) return entry - 1;
        }
    }

    private void Insert(int row, uint hash)
    {
        int mask = _slots.Length - 1;
        int slot = (int)(hash & (uint)mask);
        while (_slots[slot] != 0) slot = (slot + 1) & mask;
        _slots[slot] = row + 1;
    }

    private void Rehash(int size)
    {
        _slots = new int[size];
        int d = Dimension;
        for (int row = 0; row < _count + _staged - 1; row++) Insert(row, Hash(_rows.AsSpan(row * d, d)));
    }

    private static bool Equal(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i]) return false;   // value equality: −0 equals 0
        }
        return true;
    }

    // FNV-1a over the values' bits, −0 hashed as 0 (equal values, equal hashes); finite values only.
    private static uint Hash(ReadOnlySpan<float> solution)
    {
        uint h = 2166136261;
        foreach (float v in solution)
        {
            h = (h ^ (v == 0 ? 0u : BitConverter.SingleToUInt32Bits(v))) * 16777619;
        }
        return h ^ (h >> 15);
    }
}
