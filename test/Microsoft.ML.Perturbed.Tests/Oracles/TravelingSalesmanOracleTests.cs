using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Tests.Oracles;

/// <summary>
/// What the travelling-salesman oracle documents beyond the oracle contract (which checks it against every tour for
/// k = 4 … 7): the edge order, the tie rule, the limits, a 16-city instance, no allocation once warm.
/// </summary>
public class TravelingSalesmanOracleTests
{
    [Fact]
    public void Edges_are_the_upper_triangle_row_by_row()
    {
        const int k = 5;
        Assert.Equal(0, TravelingSalesmanOracle.EdgeIndex(k, 0, 1));
        Assert.Equal(3, TravelingSalesmanOracle.EdgeIndex(k, 0, 4));
        Assert.Equal(4, TravelingSalesmanOracle.EdgeIndex(k, 1, 2));
        Assert.Equal(9, TravelingSalesmanOracle.EdgeIndex(k, 3, 4));
        Assert.Equal(TravelingSalesmanOracle.EdgeIndex(k, 2, 4), TravelingSalesmanOracle.EdgeIndex(k, 4, 2));
        int[] all = [.. from i in Enumerable.Range(0, k) from j in Enumerable.Range(i + 1, k - i - 1) select TravelingSalesmanOracle.EdgeIndex(k, i, j)];
        Assert.Equal(Enumerable.Range(0, k * (k - 1) / 2), all);
        Oracle oracle = Oracle.TravelingSalesman(k);
        Assert.Equal((10, 10, OptimizationSense.Minimize), (oracle.Dimension, oracle.OutputDimension, oracle.Sense));
        Assert.Equal("TravelingSalesman(k=5)", oracle.Name);
        Assert.Same(LinearLosses.ZeroOneSquared, oracle.LinearTaskLoss);
        Assert.Null(oracle.DeviceKernel);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void Ties_go_to_the_lexicographically_smallest_city_sequence_from_city_0(int k)
    {
        Oracle oracle = Oracle.TravelingSalesman(k);
        int d = k * (k - 1) / 2;
        // Every sequence 0, p₁, …, p_{k−1} in lexicographic order (both directions of each tour).
        int[][] sequences = TestMath.Permutations(k - 1).Select(p => p.Select(c => c + 1).ToArray())
            .OrderBy(p => string.Concat(p.Select(c => (char)('a' + c))), StringComparer.Ordinal).ToArray();
        var rng = new System.Random(k);
        for (int trial = 0; trial < 60; trial++)
        {
            // Few distinct integer costs (sums exact in double): many optimal tours; trial 0 has every cost equal.
            float[] cost = Enumerable.Range(0, d).Select(_ => trial == 0 ? 1f : rng.Next(0, 3)).ToArray();
            int[] expected = sequences.MinBy(p => Cost(k, cost, p))!;   // MinBy keeps the first of equal keys
            var y = new float[d];
            oracle.Solve(cost, y);
            Assert.Equal(Edges(k, expected), y);
            if (trial == 0) Assert.Equal(Enumerable.Range(1, k - 1), expected);
        }
    }

    [Fact]
    public void Sixteen_cities_on_a_circle_are_toured_in_circle_order()
    {
        const int k = TravelingSalesmanOracle.MaxCities;
        var rng = new System.Random(16);
        int[] position = Enumerable.Range(0, k).OrderBy(_ => rng.Next()).ToArray();   // city i sits at angle 2π·position[i]/k
        var cost = new float[k * (k - 1) / 2];
        for (int i = 0; i < k; i++)
        {
            for (int j = i + 1; j < k; j++)
            {
                double a = 2 * Math.PI * position[i] / k, b = 2 * Math.PI * position[j] / k;
                cost[TravelingSalesmanOracle.EdgeIndex(k, i, j)] = (float)Math.Sqrt(Math.Pow(Math.Cos(a) - Math.Cos(b), 2) + Math.Pow(Math.Sin(a) - Math.Sin(b), 2));
            }
        }
        var y = new float[cost.Length];
        Oracle.TravelingSalesman(k).Solve(cost, y);
        int[] cityAt = new int[k];
        for (int i = 0; i < k; i++) cityAt[position[i]] = i;
        var expected = new float[cost.Length];
        for (int p = 0; p < k; p++) expected[TravelingSalesmanOracle.EdgeIndex(k, cityAt[p], cityAt[(p + 1) % k])] = 1;
        Assert.Equal(expected, y);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(17)]
    [InlineData(40)]
    public void City_counts_outside_3_to_16_are_refused_naming_the_argument_and_the_limits(int k)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Oracle.TravelingSalesman(k));
        Assert.Equal("cities", e.ParamName);
        Assert.Contains("[3, 16]", e.Message);
        Assert.Contains($"got {k}", e.Message);
    }

    [Fact]
    public void A_warm_solve_allocates_nothing()
    {
        Oracle oracle = Oracle.TravelingSalesman(12);
        float[] cost = TestMath.RandomVector(new System.Random(3), 4 * oracle.Dimension, 5);
        var y = new float[cost.Length];
        oracle.Solve(cost, y, maxDegreeOfParallelism: 1);
        long fewest = long.MaxValue;
        for (int pass = 0; pass < 3; pass++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            oracle.Solve(cost, y, maxDegreeOfParallelism: 1);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, fewest);
    }

    private static double Cost(int k, float[] cost, int[] sequence)
    {
        double sum = 0;
        int previous = 0;
        foreach (int city in sequence.Append(0))
        {
            sum += cost[TravelingSalesmanOracle.EdgeIndex(k, previous, city)];
            previous = city;
        }
        return sum;
    }

    private static float[] Edges(int k, int[] sequence)
    {
        var y = new float[k * (k - 1) / 2];
        int previous = 0;
        foreach (int city in sequence.Append(0))
        {
            y[TravelingSalesmanOracle.EdgeIndex(k, previous, city)] = 1;
            previous = city;
        }
        return y;
    }
}
