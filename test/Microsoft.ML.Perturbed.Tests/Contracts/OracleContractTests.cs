using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Tests.Oracles;

namespace Microsoft.ML.Perturbed.Tests.Contracts;

/// <summary>An oracle registered in the contract: the oracle and every feasible solution of a small instance.</summary>
public sealed record OracleCase(string Name, Oracle Oracle, Func<IEnumerable<float[]>> Feasible, bool NonNegative = false)
{
    public override string ToString() => Name;
}

/// <summary>
/// The contract every oracle gets for free (docs/architecture.md, "Contract tests"): optimal against brute force on
/// small instances, its solution one of the feasible points, deterministic ties, same bits on one and all threads.
/// Register a new oracle in <see cref="Oracles"/>.
/// </summary>
public class OracleContractTests
{
    public static TheoryData<OracleCase> Oracles()
    {
        static float[] OneHot(int d, IEnumerable<int> ones)
        {
            var y = new float[d];
            foreach (int i in ones) y[i] = 1;
            return y;
        }
        var data = new TheoryData<OracleCase>
        {
            new OracleCase("Argmax", new ArgmaxOracle(5), () => Enumerable.Range(0, 5).Select(i => OneHot(5, [i]))),
            new OracleCase("TopK(2)", new TopKOracle(5, 2), () => TestMath.Subsets(5, 2).Select(s => OneHot(5, s))),
            new OracleCase("Ranking", new RankingOracle(4), () => TestMath.Permutations(4).Select(p => p.Select(v => (float)(v + 1)).ToArray())),
            new OracleCase("Ranking(custom reference)", new RankingOracle([0.5f, 2f, 7f]), () => TestMath.Permutations(3).Select(p => p.Select(v => new[] { 0.5f, 2f, 7f }[v]).ToArray())),
            new OracleCase("Matching(3)", new MatchingOracle(3), () => TestMath.Permutations(3).Select(p => OneHot(9, p.Select((col, row) => row * 3 + col)))),
            new OracleCase("GridPath(3×3, right/down)", new GridScorePathOracle(3, 3, GridMoves.RightDown), () => OracleTests.GridPaths(3, 3, false).Select(p => OneHot(9, p))),
            new OracleCase("GridPath(2×3, diagonal)", new GridScorePathOracle(2, 3), () => OracleTests.GridPaths(2, 3, true).Select(p => OneHot(6, p))),
            new OracleCase("User(best pair)", Oracle.Create(4, 4, BestAdjacentPair, "BestAdjacentPair"), () => Enumerable.Range(0, 3).Select(i => OneHot(4, [i, i + 1]))),
            new OracleCase("DagShortestPath(PyEPO grid 3×3)", DagShortestPathOracle.Grid(3, 3), () => DagPaths(DagShortestPathOracle.Grid(3, 3))),
            new OracleCase("DagShortestPath(skip edges)", SkipDag(), () => DagPaths(SkipDag())),
            new OracleCase("GridVertexShortestPath(3×3)", new GridVertexShortestPathOracle(3, 3), () => KingPaths(3, 3), NonNegative: true),
            new OracleCase("GridVertexShortestPath(2×4)", new GridVertexShortestPathOracle(2, 4), () => KingPaths(2, 4), NonNegative: true),
            new OracleCase("Knapsack", new KnapsackOracle([2, 3, 4, 5, 1], 7), () => Packings([2, 3, 4, 5, 1], 7)),
            new OracleCase("MultidimensionalKnapsack(2 × 7)", Oracle.MultidimensionalKnapsack([[2, 3, 4, 5, 1, 3, 2], [4, 1, 2, 3, 3, 5, 2]], [8, 7]),
                () => Packings([[2, 3, 4, 5, 1, 3, 2], [4, 1, 2, 3, 3, 5, 2]], [8, 7])),
            new OracleCase("MultidimensionalKnapsack(3 × 6, a weight 0, an item too heavy)", Oracle.MultidimensionalKnapsack([[3, 0, 4, 2, 9, 1], [1, 2, 0, 3, 1, 4], [2, 2, 2, 2, 2, 2]], [6, 5, 6]),
                () => Packings([[3, 0, 4, 2, 9, 1], [1, 2, 0, 3, 1, 4], [2, 2, 2, 2, 2, 2]], [6, 5, 6])),
            new OracleCase("User(cheapest pair, minimizing)", Oracle.Create(4, 4, CheapestAdjacentPair, "CheapestAdjacentPair", OptimizationSense.Minimize),
                () => Enumerable.Range(0, 3).Select(i => OneHot(4, [i, i + 1]))),
        };
        for (int k = 4; k <= 7; k++)
        {
            int cities = k;
            data.Add(new OracleCase($"TravelingSalesman(k={k})", Oracle.TravelingSalesman(k), () => Tours(cities)));
        }
        return data;
    }

    private static DagShortestPathOracle SkipDag() =>
        new(5, [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (2, 4), (3, 4), (0, 4)], source: 0, sink: 4);

    /// <summary>Every source → sink path of a DAG, as edge indicators.</summary>
    private static IEnumerable<float[]> DagPaths(DagShortestPathOracle dag)
    {
        var paths = new List<float[]>();
        void Walk(int node, List<int> edges)
        {
            if (node == dag.Sink)
            {
                var y = new float[dag.Dimension];
                foreach (int e in edges) y[e] = 1;
                paths.Add(y);
                return;
            }
            for (int e = 0; e < dag.Dimension; e++)
            {
                if (dag.Edge(e).From != node) continue;
                edges.Add(e);
                Walk(dag.Edge(e).To, edges);
                edges.RemoveAt(edges.Count - 1);
            }
        }
        Walk(dag.Source, []);
        return paths;
    }

    /// <summary>Every simple path between opposite corners of a grid with 8-neighbour moves, as cell indicators.</summary>
    private static IEnumerable<float[]> KingPaths(int rows, int cols)
    {
        var paths = new List<float[]>();
        var on = new bool[rows * cols];
        void Walk(int cell)
        {
            on[cell] = true;
            if (cell == rows * cols - 1) paths.Add(on.Select(b => b ? 1f : 0f).ToArray());
            else
            {
                int r = cell / cols, c = cell % cols;
                for (int dr = -1; dr <= 1; dr++)
                    for (int dc = -1; dc <= 1; dc++)
                    {
                        int nr = r + dr, nc = c + dc;
                        if ((dr != 0 || dc != 0) && nr >= 0 && nr < rows && nc >= 0 && nc < cols && !on[nr * cols + nc]) Walk(nr * cols + nc);
                    }
            }
            on[cell] = false;
        }
        Walk(0);
        return paths;
    }

    /// <summary>Every tour of k cities once (sequences from city 0 whose second city is below their last), as edge indicators.</summary>
    internal static IEnumerable<float[]> Tours(int k) =>
        TestMath.Permutations(k - 1).Where(p => p[0] < p[^1]).Select(p =>
        {
            var y = new float[k * (k - 1) / 2];
            int[] order = [0, .. p.Select(c => c + 1)];
            for (int i = 0; i < k; i++)
            {
                int a = Math.Min(order[i], order[(i + 1) % k]), b = Math.Max(order[i], order[(i + 1) % k]);
                y[a * (2 * k - a - 1) / 2 + b - a - 1] = 1;
            }
            return y;
        });

    /// <summary>Every subset of items within the capacity.</summary>
    private static IEnumerable<float[]> Packings(int[] weights, int capacity) =>
        Enumerable.Range(0, 1 << weights.Length)
            .Where(mask => Enumerable.Range(0, weights.Length).Where(i => (mask >> i & 1) == 1).Sum(i => weights[i]) <= capacity)
            .Select(mask => Enumerable.Range(0, weights.Length).Select(i => (float)(mask >> i & 1)).ToArray());

    /// <summary>Every subset of items within the capacity of every dimension (weights[j][i]: item i in dimension j).</summary>
    internal static IEnumerable<float[]> Packings(int[][] weights, int[] capacities)
    {
        int n = weights[0].Length;
        return Enumerable.Range(0, 1 << n)
            .Where(mask => Enumerable.Range(0, weights.Length).All(j => Enumerable.Range(0, n).Where(i => (mask >> i & 1) == 1).Sum(i => weights[j][i]) <= capacities[j]))
            .Select(mask => Enumerable.Range(0, n).Select(i => (float)(mask >> i & 1)).ToArray());
    }

    /// <summary>A minimizing user oracle: the adjacent pair with the smallest sum (first wins ties).</summary>
    private static void CheapestAdjacentPair(ReadOnlySpan<float> cost, Span<float> y)
    {
        int best = 0;
        for (int i = 1; i < cost.Length - 1; i++) if (cost[i] + cost[i + 1] < cost[best] + cost[best + 1]) best = i;
        y.Clear();
        y[best] = y[best + 1] = 1;
    }

    /// <summary>A user oracle: the adjacent pair with the largest sum (first wins ties).</summary>
    private static void BestAdjacentPair(ReadOnlySpan<float> theta, Span<float> y)
    {
        int best = 0;
        for (int i = 1; i < theta.Length - 1; i++) if (theta[i] + theta[i + 1] > theta[best] + theta[best + 1]) best = i;
        y.Clear();
        y[best] = y[best + 1] = 1;
    }

    [Theory]
    [MemberData(nameof(Oracles))]
    public void Solutions_are_feasible_and_optimal_against_brute_force(OracleCase c)
    {
        float[][] feasible = c.Feasible().ToArray();
        var rng = new System.Random(1);
        int d = c.Oracle.Dimension;
        for (int trial = 0; trial < 50; trial++)
        {
            float[] theta = TestMath.RandomVector(rng, d, 2);
            if (c.NonNegative) for (int i = 0; i < d; i++) theta[i] = Math.Abs(theta[i]);
            var y = new float[c.Oracle.OutputDimension];
            c.Oracle.Solve(theta, y);
            Assert.Contains(feasible, f => f.SequenceEqual(y));
            double best = c.Oracle.Sense == OptimizationSense.Maximize ? feasible.Max(f => TestMath.Dot(f, theta)) : feasible.Min(f => TestMath.Dot(f, theta));
            Assert.Equal(best, TestMath.Dot(y, theta), 4);
        }
    }

    [Theory]
    [MemberData(nameof(Oracles))]
    public void Ties_are_broken_deterministically_and_threads_do_not_matter(OracleCase c)
    {
        int d = c.Oracle.Dimension, o = c.Oracle.OutputDimension;
        const int batch = 200;
        var rng = new System.Random(2);
        // Few distinct values: many ties.
        float[] theta = Enumerable.Range(0, batch * d).Select(_ => (float)rng.Next(0, 3)).ToArray();
        var one = new float[batch * o];
        var all = new float[batch * o];
        c.Oracle.Solve(theta, one, maxDegreeOfParallelism: 1);
        c.Oracle.Solve(theta, all);
        Assert.Equal(one, all);
        var again = new float[batch * o];
        c.Oracle.Solve(theta, again);
        Assert.Equal(all, again);
        float[][] feasible = c.Feasible().ToArray();
        for (int r = 0; r < batch; r++) Assert.Contains(feasible, f => f.AsSpan().SequenceEqual(all.AsSpan(r * o, o)));
    }

    [Theory]
    [MemberData(nameof(Oracles))]
    public void The_linear_task_loss_it_declares_is_the_squared_loss_on_its_solutions(OracleCase c)
    {
        if (c.Oracle.LinearTaskLoss is not { } linear)
        {
            Assert.Throws<NotSupportedException>(() => LinearLosses.For(c.Oracle));
            return;
        }
        Assert.Same(linear, LinearLosses.For(c.Oracle));
        float[][] feasible = c.Feasible().Take(12).ToArray();
        var t = new float[c.Oracle.OutputDimension];
        foreach (float[] y in feasible)
        {
            double constant = linear(y, t);
            foreach (float[] yHat in feasible)
            {
                double squared = 0;
                for (int i = 0; i < y.Length; i++) squared += 0.5 * (yHat[i] - y[i]) * (yHat[i] - y[i]);
                Assert.Equal(squared, TestMath.Dot(t, yHat) + constant, 4);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Oracles))]
    public void The_device_kernel_it_declares_gives_its_solutions(OracleCase c)
    {
        if (c.Oracle.DeviceKernel is not { } kernel) return;
        int d = c.Oracle.Dimension;
        var rng = new System.Random(3);
        for (int trial = 0; trial < 50; trial++)
        {
            // Few distinct values: ties, which the kernel must break as the oracle does.
            float[] theta = Enumerable.Range(0, d).Select(_ => (float)rng.Next(0, 4)).ToArray();
            var y = new float[c.Oracle.OutputDimension];
            c.Oracle.Solve(theta, y);
            // Larger score first, lower index first among ties: the order every kernel ranks by.
            int[] order = Enumerable.Range(0, d).OrderByDescending(i => theta[i]).ThenBy(i => i).ToArray();
            var expected = new float[y.Length];
            switch (kernel.Kind)
            {
                case DeviceKernelKind.Argmax:
                    expected[order[0]] = 1;
                    break;
                case DeviceKernelKind.TopK:
                    foreach (int i in order.Take(kernel.K)) expected[i] = 1;
                    break;
                case DeviceKernelKind.Ranking:
                    for (int k = 0; k < d; k++) expected[order[k]] = d - k;
                    break;
                case DeviceKernelKind.Matching:
                    // Optimality against brute force is the contract above; the kernel is this oracle on the host.
                    expected = y;
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(c), kernel.Kind, "A device kernel without a reference here.");
            }
            Assert.Equal(expected, y);
        }
        Assert.Equal(c.Oracle is ArgmaxOracle, c.Oracle.IsUnitSimplex);
    }

    [Fact]
    public void Only_the_default_ranking_reference_has_the_device_kernel()
    {
        Assert.Equal(new DeviceKernel(DeviceKernelKind.Ranking), new RankingOracle(4).DeviceKernel);
        Assert.Equal(new DeviceKernel(DeviceKernelKind.Ranking), new RankingOracle([3f, 1f, 2f]).DeviceKernel);
        Assert.Null(new RankingOracle([0.5f, 2f, 7f]).DeviceKernel);
        Assert.Equal(new DeviceKernel(DeviceKernelKind.TopK, 3), new TopKOracle(6, 3).DeviceKernel);
        Assert.Null(Oracle.Create(3, 3, (t, y) => y[0] = 1).DeviceKernel);
        Assert.False(Oracle.Create(3, 3, (t, y) => y[0] = 1).IsUnitSimplex);
    }

    [Theory]
    [MemberData(nameof(Oracles))]
    public void Bad_input_is_named(OracleCase c)
    {
        int d = c.Oracle.Dimension;
        var theta = new float[2 * d];
        theta[d + 1] = float.PositiveInfinity;
        var e = Assert.Throws<ArgumentException>(() => c.Oracle.Solve(theta, new float[2 * c.Oracle.OutputDimension]));
        Assert.Equal("scores", e.ParamName);
        Assert.Contains("row 1, column 1", e.Message);
        Assert.Equal("solutions", Assert.Throws<ArgumentException>(() => c.Oracle.Solve(new float[d], new float[c.Oracle.OutputDimension + 1])).ParamName);
    }
}
