using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Tests.Oracles;

namespace Microsoft.ML.Perturbed.Tests.Contracts;

/// <summary>An oracle registered in the contract: the oracle and every feasible solution of a small instance.</summary>
public sealed record OracleCase(string Name, Oracle Oracle, Func<IEnumerable<float[]>> Feasible)
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
            new OracleCase("GridPath(3×3, right/down)", new GridShortestPathOracle(3, 3, GridMoves.RightDown), () => OracleTests.GridPaths(3, 3, false).Select(p => OneHot(9, p))),
            new OracleCase("GridPath(2×3, diagonal)", new GridShortestPathOracle(2, 3), () => OracleTests.GridPaths(2, 3, true).Select(p => OneHot(6, p))),
            new OracleCase("User(best pair)", Oracle.Create(4, 4, BestAdjacentPair, "BestAdjacentPair"), () => Enumerable.Range(0, 3).Select(i => OneHot(4, [i, i + 1]))),
        };
        return data;
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
            var y = new float[c.Oracle.OutputDimension];
            c.Oracle.Solve(theta, y);
            Assert.Contains(feasible, f => f.SequenceEqual(y));
            double best = feasible.Max(f => TestMath.Dot(f, theta));
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
