using Microsoft.ML.Perturbed.Losses;

namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// The symmetric travelling salesman over k cities, exact (<see cref="Oracle.TravelingSalesman"/> builds it): a row holds one
/// cost per unordered pair of cities and y*(c) = argmin ⟨y, c⟩ is the 0/1 edge indicator of the cheapest tour
/// (<see cref="OptimizationSense.Minimize"/>; costs of any sign — every tour has k edges). Held–Karp dynamic programming
/// over (subset, last city): C(S, j), the cheapest path from city 0 through exactly the cities of S ending at j ∈ S, for
/// S ⊆ {1, …, k − 1}; O(2ᵏ k²) time and 2ᵏ⁻¹(k − 1) doubles per row, pooled per thread (no allocation in steady state).
/// </summary>
/// <remarks>
/// <para><b>Edge order</b> (scores and solutions): the upper triangle of the k × k cost matrix, row by row — (0, 1), (0, 2),
/// …, (0, k − 1), (1, 2), …, (k − 2, k − 1); pair (i, j), i &lt; j, is entry i·(2k − i − 1)/2 + j − i − 1
/// (<see cref="EdgeIndex"/>).</para>
/// <para><b>Ties</b>: of the tours of least cost (sums in double), the one whose city sequence from city 0, read in either
/// direction, is lexicographically smallest — with all costs equal, 0 → 1 → … → k − 1 → 0. The tour is read forwards from
/// city 0, taking at each step the lowest-numbered city through which an optimal completion exists; by symmetry the
/// completion from city j over the unvisited set R back to 0 costs C(R ∪ {j}, j), the same double the recursion computed,
/// so the test is an exact equality.</para>
/// </remarks>
internal sealed class TravelingSalesmanOracle : Oracle
{
    /// <summary>The fewest cities (a triangle, the one tour of three cities).</summary>
    public const int MinCities = 3;

    /// <summary>The most cities: 16, i.e. 2¹⁵ · 15 = 491,520 states (3.9 MB of doubles per thread).</summary>
    public const int MaxCities = 16;

    /// <summary>Creates the oracle over <paramref name="cities"/> cities.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cities"/> is outside [<see cref="MinCities"/>, <see cref="MaxCities"/>].</exception>
    public TravelingSalesmanOracle(int cities) : base(EdgeCount(cities), EdgeCount(cities), OptimizationSense.Minimize)
    {
        Cities = cities;
    }

    /// <summary>The number of cities k.</summary>
    public int Cities { get; }

    /// <inheritdoc/>
    public override string Name => $"TravelingSalesman(k={Cities})";

    /// <inheritdoc/>
    public override LinearLoss LinearTaskLoss => LinearLosses.ZeroOneSquared;

    /// <summary>k(k − 1)/2, the number of unordered pairs, after checking <paramref name="cities"/>.</summary>
    internal static int EdgeCount(int cities)
    {
        if (cities < MinCities || cities > MaxCities)
        {
            throw new ArgumentOutOfRangeException(nameof(cities), cities,
                $"'{nameof(cities)}' must be in [{MinCities}, {MaxCities}] (the exact Held–Karp dynamic programme keeps 2^(k−1)·(k−1) states per row: 491,520 at k = {MaxCities}), got {cities}.");
        }
        return cities * (cities - 1) / 2;
    }

    /// <summary>The entry of the unordered pair {<paramref name="i"/>, <paramref name="j"/>} (i ≠ j) in a row of k = <paramref name="cities"/> cities.</summary>
    internal static int EdgeIndex(int cities, int i, int j)
    {
        if (i > j) (i, j) = (j, i);
        return i * (2 * cities - i - 1) / 2 + j - i - 1;
    }

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> cost, Span<float> solution)
    {
        int k = Cities, n = k - 1, full = (1 << n) - 1;
        Workspace w = t_workspace ??= new Workspace();
        w.Ensure(k);
        Span<double> weight = w.Weight.AsSpan(0, k * k);
        for (int i = 0, e = 0; i < k; i++)
        {
            weight[i * k + i] = 0;
            for (int j = i + 1; j < k; j++, e++) weight[i * k + j] = weight[j * k + i] = cost[e];
        }

        // best[S·n + b]: the cheapest path 0 → … → city b + 1 through exactly the cities of S (bit b ↔ city b + 1), b ∈ S.
        // Masks ascend, so S \ {b} is done before S; entries with b ∉ S are never read and never cleared.
        Span<double> best = w.Best.AsSpan(0, (full + 1) * n);
        for (int b = 0; b < n; b++) best[(1 << b) * n + b] = weight[b + 1];
        for (int mask = 1; mask <= full; mask++)
        {
            if ((mask & (mask - 1)) == 0) continue;   // one city: set above
            for (int b = 0; b < n; b++)
            {
                if ((mask >> b & 1) == 0) continue;
                int previous = mask ^ (1 << b), rowOfLast = (b + 1) * k;
                double least = double.PositiveInfinity;
                for (int c = 0; c < n; c++)
                {
                    if ((previous >> c & 1) == 0) continue;
                    double candidate = best[previous * n + c] + weight[rowOfLast + c + 1];
                    if (candidate < least) least = candidate;
                }
                best[mask * n + b] = least;
            }
        }

        // Read the tour forwards from city 0: the lowest city through which the optimum remains reachable.
        solution.Clear();
        int current = 0, remaining = full;
        double value = double.PositiveInfinity;
        for (int c = 0; c < n; c++) value = Math.Min(value, weight[c + 1] + best[full * n + c]);
        while (remaining != 0)
        {
            int next = -1;
            for (int c = 0; c < n; c++)
            {
                if ((remaining >> c & 1) == 1 && weight[current * k + c + 1] + best[remaining * n + c] == value)
                {
                    next = c;
                    break;
                }
            }
            if (next < 0) throw new InvalidOperationException($"{Name}: the tour could not be read back (costs [{string.Join(", ", cost.ToArray())}]).");
            solution[EdgeIndex(k, current, next + 1)] = 1;
            value = best[remaining * n + next];
            remaining ^= 1 << next;
            current = next + 1;
        }
        solution[EdgeIndex(k, current, 0)] = 1;
    }

    [ThreadStatic] private static Workspace? t_workspace;

    /// <summary>A thread's buffers, grown to the largest k it has solved.</summary>
    private sealed class Workspace
    {
        public double[] Weight = [], Best = [];

        public void Ensure(int cities)
        {
            if (Weight.Length < cities * cities) Weight = new double[cities * cities];
            int states = (1 << (cities - 1)) * (cities - 1);
            if (Best.Length < states) Best = new double[states];
        }
    }
}
