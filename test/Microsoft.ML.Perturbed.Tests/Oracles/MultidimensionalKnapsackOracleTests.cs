using Microsoft.ML.Perturbed.Evaluation;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Tests.Oracles;

/// <summary>
/// The multidimensional knapsack beyond its contract (OracleContractTests has small instances against brute force): PyEPO's
/// two-dimensional instances (32 items) against an enumeration of every packing that fits, the capacity of both dimensions
/// respected, branch and bound and the dominance programme alike (ties included), one dimension equal to
/// <see cref="KnapsackOracle"/>'s dynamic programme ties included, the generator, and bad input named.
/// </summary>
public class MultidimensionalKnapsackOracleTests
{
    /// <summary>The best value over every packing that fits, by depth-first enumeration (feasibility pruning only).</summary>
    private static double BestByEnumeration(int[][] weights, int[] capacities, ReadOnlySpan<float> values)
    {
        int n = values.Length, m = weights.Length;
        float[] v = values.ToArray();
        var left = capacities.Select(c => (long)c).ToArray();
        double best = 0;
        void Walk(int i, double total)
        {
            best = Math.Max(best, total);
            for (int next = i; next < n; next++)
            {
                bool fits = true;
                for (int j = 0; j < m && fits; j++) fits = weights[j][next] <= left[j];
                if (!fits) continue;
                for (int j = 0; j < m; j++) left[j] -= weights[j][next];
                Walk(next + 1, total + v[next]);
                for (int j = 0; j < m; j++) left[j] += weights[j][next];
            }
        }
        Walk(0, 0);
        return best;
    }

    [Fact]
    public void PyEPO_instances_are_solved_optimally_within_both_capacities()
    {
        (int[][] weights, _, float[] values) = DecisionData.Knapsack(40, 5, degree: 4, noise: 0.5, seed: 3);
        int[] capacities = [DecisionData.KnapsackCapacity, DecisionData.KnapsackCapacity];
        Oracle oracle = Oracle.MultidimensionalKnapsack(weights, capacities);
        Assert.Equal(32, oracle.Dimension);
        var rng = new System.Random(8);
        // True values (integers, many ties) and predicted values of both signs.
        float[] predicted = TestMath.RandomVector(rng, values.Length, 3);
        foreach (float[] scores in new[] { values, predicted })
        {
            var y = new float[scores.Length];
            oracle.Solve(scores, y);
            for (int r = 0; r < 40; r++)
            {
                ReadOnlySpan<float> row = scores.AsSpan(r * 32, 32), packed = y.AsSpan(r * 32, 32);
                for (int j = 0; j < 2; j++)
                {
                    long used = 0;
                    for (int i = 0; i < 32; i++) used += (long)weights[j][i] * (int)packed[i];
                    Assert.True(used <= capacities[j], $"row {r}: dimension {j} holds {used} of {capacities[j]}");
                }
                Assert.All(packed.ToArray(), v => Assert.True(v is 0 or 1));
                Assert.Equal(BestByEnumeration(weights, capacities, row), TestMath.Dot(row, packed), 4);
            }
        }
    }

    [Fact]
    public void Branch_and_bound_and_the_dominance_programme_give_the_same_optimal_packings_ties_included()
    {
        var rng = new System.Random(12);
        for (int trial = 0; trial < 400; trial++)
        {
            int n = rng.Next(1, 13), m = rng.Next(1, 5);
            int[][] weights = Enumerable.Range(0, m).Select(_ => Enumerable.Range(0, n).Select(_ => rng.Next(0, 8)).ToArray()).ToArray();
            int[] capacities = Enumerable.Range(0, m).Select(_ => rng.Next(0, 20)).ToArray();
            // Half the trials with few distinct values (ties decide), half with real values of both signs.
            float[] theta = Enumerable.Range(0, n).Select(_ => trial % 2 == 0 ? rng.Next(-1, 4) : (float)(rng.NextDouble() * 4 - 1)).ToArray();
            var search = new float[n];
            var program = new float[n];
            new MultidimensionalKnapsackOracle(weights, capacities) { NodeBudget = int.MaxValue }.Solve(theta, search);
            new MultidimensionalKnapsackOracle(weights, capacities) { NodeBudget = 0 }.Solve(theta, program);
            Assert.Equal(search, program);
            float[][] feasible = Contracts.OracleContractTests.Packings(weights, capacities).ToArray();
            Assert.Contains(feasible, f => f.SequenceEqual(program));
            Assert.Equal(feasible.Max(f => TestMath.Dot(f, theta)), TestMath.Dot(program, theta), 4);
        }
    }

    [Fact]
    public void The_dominance_programme_solves_PyEPO_rows_as_branch_and_bound_does()
    {
        (int[][] weights, _, float[] values) = DecisionData.Knapsack(200, 5, degree: 2, noise: 0.5, seed: 9);
        int[] capacities = [DecisionData.KnapsackCapacity, DecisionData.KnapsackCapacity];
        float[] predicted = TestMath.RandomVector(new System.Random(3), values.Length, 4);
        foreach (float[] scores in new[] { values, predicted })
        {
            var search = new float[scores.Length];
            var program = new float[scores.Length];
            new MultidimensionalKnapsackOracle(weights, capacities) { NodeBudget = int.MaxValue }.Solve(scores, search);
            new MultidimensionalKnapsackOracle(weights, capacities) { NodeBudget = 0 }.Solve(scores, program);
            Assert.Equal(search, program);
        }
    }

    [Fact]
    public void One_dimension_gives_the_dynamic_programme_s_packings_ties_included()
    {
        var rng = new System.Random(4);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = rng.Next(1, 13), capacity = rng.Next(0, 20);
            int[] weights = Enumerable.Range(0, n).Select(_ => rng.Next(0, 8)).ToArray();
            // Few distinct values: many equal packings, where the tie rule decides.
            float[] theta = Enumerable.Range(0, n).Select(_ => (float)rng.Next(-1, 4)).ToArray();
            var expected = new float[n];
            var actual = new float[n];
            new KnapsackOracle(weights, capacity).Solve(theta, expected);
            Oracle.MultidimensionalKnapsack([weights], [capacity]).Solve(theta, actual);
            Assert.Equal(expected, actual);
            new MultidimensionalKnapsackOracle([weights], [capacity]) { NodeBudget = 0 }.Solve(theta, actual);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void A_row_allocates_nothing_once_warm_and_large_instances_stay_exact()
    {
        // 60 items of weight 1–3 under capacity 30 in both dimensions: many fit at once, branch and bound runs out of nodes
        // and the dominance programme (at most 31 × 31 load vectors) settles it; no single swap improves the packing.
        var rng = new System.Random(6);
        int[][] weights = [Enumerable.Range(0, 60).Select(_ => rng.Next(1, 4)).ToArray(), Enumerable.Range(0, 60).Select(_ => rng.Next(1, 4)).ToArray()];
        Oracle oracle = Oracle.MultidimensionalKnapsack(weights, [30, 30]);
        float[] theta = TestMath.RandomVector(rng, 60, 1).Select(v => Math.Abs(v) + 0.01f).ToArray();
        var y = new float[60];
        oracle.Solve(theta, y, maxDegreeOfParallelism: 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        oracle.Solve(theta, y, maxDegreeOfParallelism: 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        for (int j = 0; j < 2; j++) Assert.True(Enumerable.Range(0, 60).Sum(i => weights[j][i] * (int)y[i]) <= 30);
        // No single swap improves it: remove any packed item and add any item that then fits.
        double value = TestMath.Dot(theta, y);
        for (int o = 0; o < 60; o++)
        {
            if (y[o] != 1) continue;
            for (int i = 0; i < 60; i++)
            {
                if (y[i] == 1) continue;
                bool fits = Enumerable.Range(0, 2).All(j => Enumerable.Range(0, 60).Sum(k => weights[j][k] * (int)y[k]) - weights[j][o] + weights[j][i] <= 30);
                if (fits) Assert.True(value - theta[o] + theta[i] <= value + 1e-6, $"swapping item {o} for {i} improves the packing");
            }
        }
    }

    [Fact]
    public void The_generator_follows_PyEPO_and_is_deterministic_for_a_seed()
    {
        (int[][] w1, float[] x1, float[] c1) = DecisionData.Knapsack(500, 5, degree: 2, noise: 0.5, seed: 7);
        (int[][] w2, float[] x2, float[] c2) = DecisionData.Knapsack(500, 5, degree: 2, noise: 0.5, seed: 7);
        Assert.Equal(w1, w2);
        Assert.Equal(x1, x2);
        Assert.Equal(c1, c2);
        Assert.Equal(2, w1.Length);
        Assert.All(w1, row => Assert.Equal(32, row.Length));
        Assert.All(w1.SelectMany(r => r), w => Assert.InRange(w, 300, 799));
        Assert.Equal(500 * 5, x1.Length);
        Assert.Equal(500 * 32, c1.Length);
        Assert.All(c1, v => Assert.True(v >= 1 && v == Math.Floor(v), $"value {v}"));
        // Without noise a value is ⌈5((Bx/√p + 3)^deg + 1)/3.5^deg⌉: degree 1 and x = 0 would give ⌈5·4/3.5⌉ = 6; the mean sits near it.
        (_, _, float[] plain) = DecisionData.Knapsack(2000, 5, degree: 1, noise: 0, seed: 1);
        Assert.InRange(plain.Average(), 5.5, 7.5);
        Assert.NotEqual(c1, DecisionData.Knapsack(500, 5, degree: 2, noise: 0.5, seed: 8).Values);
    }

    [Fact]
    public void Bad_input_is_named()
    {
        Assert.Equal("weights", Assert.Throws<ArgumentNullException>(() => Oracle.MultidimensionalKnapsack(null!, [1])).ParamName);
        Assert.Equal("capacities", Assert.Throws<ArgumentNullException>(() => Oracle.MultidimensionalKnapsack([[1]], null!)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => Oracle.MultidimensionalKnapsack([], [])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => Oracle.MultidimensionalKnapsack([[]], [1])).ParamName);
        var e = Assert.Throws<ArgumentException>(() => Oracle.MultidimensionalKnapsack([[1, 2], [1]], [1, 1]));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("Dimension 1", e.Message);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => Oracle.MultidimensionalKnapsack([new int[65]], [1])).ParamName);
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => Oracle.MultidimensionalKnapsack([[1, 2], [3, -1]], [4, 4]));
        Assert.Equal("weights", negative.ParamName);
        Assert.Contains("Item 1", negative.Message);
        Assert.Contains("dimension 1", negative.Message);
        Assert.Equal("capacities", Assert.Throws<ArgumentException>(() => Oracle.MultidimensionalKnapsack([[1, 2], [3, 1]], [4])).ParamName);
        var capacity = Assert.Throws<ArgumentOutOfRangeException>(() => Oracle.MultidimensionalKnapsack([[1, 2], [3, 1]], [4, -2]));
        Assert.Equal("capacities", capacity.ParamName);
        Assert.Contains("Dimension 1", capacity.Message);
        Assert.Equal("noise", Assert.Throws<ArgumentOutOfRangeException>(() => DecisionData.Knapsack(10, 5, 2, 1.0, 0)).ParamName);
        Assert.Equal("items", Assert.Throws<ArgumentOutOfRangeException>(() => DecisionData.Knapsack(10, 5, 2, 0.5, 0, items: 0)).ParamName);
    }
}
