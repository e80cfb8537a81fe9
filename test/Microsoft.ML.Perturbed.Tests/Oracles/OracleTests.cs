using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Tests.Oracles;

public class OracleTests
{
    private static float[] Solve(Oracle oracle, float[] theta)
    {
        var y = new float[oracle.OutputDimension];
        oracle.Solve(theta, y);
        return y;
    }

    [Fact]
    public void Argmax_is_one_hot_of_the_largest_and_ties_go_to_the_lowest_index()
    {
        var oracle = new ArgmaxOracle(5);
        Assert.Equal(new float[] { 0, 0, 1, 0, 0 }, Solve(oracle, [1, 2, 3, -1, 0]));
        Assert.Equal(new float[] { 0, 1, 0, 0, 0 }, Solve(oracle, [1, 3, 2, 3, 3]));
        Assert.Equal(new float[] { 1, 0, 0, 0, 0 }, Solve(oracle, [-0f, 0f, -1, -2, -3]));
    }

    [Fact]
    public void TopK_matches_brute_force_over_all_subsets()
    {
        var rng = new System.Random(1);
        for (int trial = 0; trial < 200; trial++)
        {
            int d = rng.Next(1, 9), k = rng.Next(1, d + 1);
            float[] theta = TestMath.RandomVector(rng, d);
            float[] y = Solve(new TopKOracle(d, k), theta);
            double best = TestMath.Subsets(d, k).Max(s => s.Sum(i => (double)theta[i]));
            Assert.Equal(k, y.Sum());
            Assert.All(y, v => Assert.True(v is 0f or 1f));
            Assert.Equal(best, TestMath.Dot(y, theta), 5);
        }
    }

    [Fact]
    public void TopK_breaks_ties_toward_lower_indices()
    {
        Assert.Equal(new float[] { 1, 1, 0, 0, 1 }, Solve(new TopKOracle(5, 3), [2, 1, 1, 1, 5]));
        Assert.Equal(new float[] { 1, 1, 1, 0 }, Solve(new TopKOracle(4, 3), [0, 0, 0, 0]));
    }

    [Fact]
    public void Ranking_matches_brute_force_over_all_permutations_of_the_reference()
    {
        var rng = new System.Random(2);
        for (int trial = 0; trial < 100; trial++)
        {
            int d = rng.Next(1, 7);
            float[] theta = TestMath.RandomVector(rng, d);
            float[] v = TestMath.RandomVector(rng, d, 5);
            float[] y = Solve(new RankingOracle(v), theta);
            double best = TestMath.Permutations(d).Max(p => Enumerable.Range(0, d).Sum(i => (double)v[p[i]] * theta[i]));
            Assert.Equal(best, TestMath.Dot(y, theta), 4);
            Assert.Equal(v.OrderBy(x => x), y.OrderBy(x => x));   // a permutation of v: a vertex of its permutahedron
        }
    }

    [Fact]
    public void Default_ranking_gives_ascending_ranks_and_ties_rank_the_lower_index_higher()
    {
        var oracle = new RankingOracle(4);
        Assert.Equal(new float[] { 3, 1, 4, 2 }, Solve(oracle, [0.5f, -2, 7, 0]));
        Assert.Equal(new float[] { 4, 3, 2, 1 }, Solve(oracle, [1, 1, 1, 1]));
    }

    /// <summary>Reference order: larger score first, lower index first among ties (a stable descending sort).</summary>
    private static int[] ReferenceOrder(float[] theta) =>
        Enumerable.Range(0, theta.Length).OrderByDescending(i => theta[i]).ThenBy(i => i).ToArray();

    [Theory]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(100)]
    [InlineData(1000)]
    [InlineData(5000)]
    public void Ranking_of_long_rows_with_many_ties_equals_a_stable_sort(int d)
    {
        var rng = new System.Random(d);
        // Rounded values make ties common; mixed signs and magnitudes exercise every radix digit, −0 equals +0.
        float[] theta = Enumerable.Range(0, d).Select(_ => (float)Math.Round((rng.NextDouble() - 0.5) * 40) * (rng.Next(3) == 0 ? 1e-3f : 1f)).ToArray();
        theta[0] = -0f;
        theta[d / 2] = 0f;
        float[] y = Solve(new RankingOracle(d), theta);
        int[] order = ReferenceOrder(theta);
        for (int k = 0; k < d; k++) Assert.Equal(d - k, y[order[k]]);
    }

    [Theory]
    [InlineData(100, 2)]
    [InlineData(100, 10)]
    [InlineData(100, 12)]
    [InlineData(100, 13)]
    [InlineData(100, 50)]
    [InlineData(1000, 10)]
    [InlineData(1000, 64)]
    [InlineData(1000, 200)]
    public void TopK_of_long_rows_with_many_ties_selects_the_first_k_of_a_stable_sort(int d, int k)
    {
        var rng = new System.Random(d + k);
        float[] theta = Enumerable.Range(0, d).Select(_ => (float)rng.Next(-20, 20)).ToArray();
        float[] y = Solve(new TopKOracle(d, k), theta);
        var expected = new float[d];
        foreach (int i in ReferenceOrder(theta).Take(k)) expected[i] = 1;
        Assert.Equal(expected, y);
    }

    [Fact]
    public void Matching_matches_brute_force_over_all_assignments_and_is_a_permutation_matrix()
    {
        var rng = new System.Random(3);
        for (int trial = 0; trial < 100; trial++)
        {
            int n = rng.Next(1, 7);
            float[] theta = TestMath.RandomVector(rng, n * n, 10);
            float[] y = Solve(new MatchingOracle(n), theta);
            double best = TestMath.Permutations(n).Max(p => Enumerable.Range(0, n).Sum(i => (double)theta[i * n + p[i]]));
            Assert.Equal(best, TestMath.Dot(y, theta), 3);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(1f, Enumerable.Range(0, n).Sum(j => y[i * n + j]));
                Assert.Equal(1f, Enumerable.Range(0, n).Sum(j => y[j * n + i]));
            }
        }
    }

    [Fact]
    public void Matching_solves_a_large_instance_with_a_known_optimum()
    {
        // θ = −|i − j| + small noise: the identity is optimal (any other permutation loses at least 2).
        const int n = 60;
        var rng = new System.Random(4);
        var theta = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                theta[i * n + j] = -Math.Abs(i - j) + (float)(rng.NextDouble() * 0.01);
        float[] y = Solve(new MatchingOracle(n), theta);
        for (int i = 0; i < n; i++) Assert.Equal(1f, y[i * n + i]);
    }

    internal static IEnumerable<List<int>> GridPaths(int rows, int cols, bool diagonal)
    {
        var path = new List<int> { 0 };
        return Walk(0, 0);

        IEnumerable<List<int>> Walk(int r, int c)
        {
            if (r == rows - 1 && c == cols - 1)
            {
                yield return new List<int>(path);
                yield break;
            }
            var moves = new List<(int, int)> { (1, 0), (0, 1) };
            if (diagonal) moves.Add((1, 1));
            foreach ((int dr, int dc) in moves)
            {
                int nr = r + dr, nc = c + dc;
                if (nr >= rows || nc >= cols) continue;
                path.Add(nr * cols + nc);
                foreach (List<int> p in Walk(nr, nc)) yield return p;
                path.RemoveAt(path.Count - 1);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Grid_path_matches_brute_force_and_is_a_unit_flow(bool withDiagonal)
    {
        GridMoves moves = withDiagonal ? GridMoves.RightDownDiagonal : GridMoves.RightDown;
        var rng = new System.Random(5);
        bool diagonal = moves == GridMoves.RightDownDiagonal;
        for (int trial = 0; trial < 60; trial++)
        {
            int rows = rng.Next(1, 5), cols = rng.Next(1, 5);
            float[] theta = TestMath.RandomVector(rng, rows * cols);
            float[] y = Solve(new GridScorePathOracle(rows, cols, moves), theta);
            double best = GridPaths(rows, cols, diagonal).Max(p => p.Sum(c => (double)theta[c]));
            Assert.Equal(best, TestMath.Dot(y, theta), 5);
            AssertUnitFlow(y, rows, cols, diagonal);
        }
    }

    /// <summary>
    /// The cells on the path, taken in order, form a unit flow from the source to the sink: the source and the
    /// sink are on it, and every cell but the sink has exactly one successor on the path (one unit leaves it)
    /// and every cell but the source exactly one predecessor (one unit enters it).
    /// </summary>
    private static void AssertUnitFlow(float[] y, int rows, int cols, bool diagonal)
    {
        Assert.All(y, v => Assert.True(v is 0f or 1f));
        Assert.Equal(1f, y[0]);
        Assert.Equal(1f, y[^1]);
        var moves = diagonal ? new[] { (1, 0), (0, 1), (1, 1) } : new[] { (1, 0), (0, 1) };
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                if (y[r * cols + c] == 0) continue;
                int outFlow = moves.Count(m => r + m.Item1 < rows && c + m.Item2 < cols && y[(r + m.Item1) * cols + c + m.Item2] == 1
                    && !(diagonal && m == (1, 1) && (y[r * cols + c + 1] == 1 || y[(r + 1) * cols + c] == 1)));
                int inFlow = moves.Count(m => r - m.Item1 >= 0 && c - m.Item2 >= 0 && y[(r - m.Item1) * cols + c - m.Item2] == 1
                    && !(diagonal && m == (1, 1) && (y[r * cols + c - 1] == 1 || y[(r - 1) * cols + c] == 1)));
                Assert.Equal(r == rows - 1 && c == cols - 1 ? 0 : 1, outFlow);
                Assert.Equal(r == 0 && c == 0 ? 0 : 1, inFlow);
            }
        }
    }

    [Fact]
    public void Grid_path_with_costs_finds_the_cheap_corridor()
    {
        // Costs 1 everywhere except a free first row and last column: the best path goes right, then down.
        const int n = 5;
        var theta = new float[n * n];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
                theta[r * n + c] = r == 0 || c == n - 1 ? 0 : -1;
        float[] y = Solve(new GridScorePathOracle(n, n, GridMoves.RightDown), theta);
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
                Assert.Equal(r == 0 || c == n - 1 ? 1f : 0f, y[r * n + c]);
    }

    [Fact]
    public void User_oracle_from_a_delegate_is_solved_in_batches_in_parallel()
    {
        var negate = Oracle.Create(3, 3, (theta, y) =>
        {
            for (int i = 0; i < 3; i++) y[i] = -theta[i];
        }, "Negate");
        var theta = Enumerable.Range(0, 3000).Select(i => (float)i).ToArray();
        var y = new float[3000];
        negate.Solve(theta, y);
        Assert.Equal(theta.Select(v => -v), y);
        Assert.Equal("Negate", negate.ToString());
    }

    [Fact]
    public void Bad_input_throws_argument_exceptions_naming_the_argument()
    {
        var top = new TopKOracle(4, 2);
        var e1 = Assert.Throws<ArgumentException>(() => top.Solve(new float[7], new float[8]));
        Assert.Equal("scores", e1.ParamName);
        Assert.Contains("multiple of 4", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => top.Solve(new float[8], new float[7]));
        Assert.Equal("solutions", e2.ParamName);
        var e3 = Assert.Throws<ArgumentException>(() => top.Solve([0, 1, 2, 3, 4, float.NaN, 6, 7], new float[8]));
        Assert.Contains("row 1, column 1", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => top.Solve([0, 1, float.PositiveInfinity, 3], new float[4]));
        Assert.Contains("row 0, column 2", e4.Message);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => new TopKOracle(4, 0)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => new TopKOracle(4, 5)).ParamName);
        var e5 = Assert.Throws<ArgumentException>(() => new MatchingOracle(3, 4));
        Assert.Contains("square", e5.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArgmaxOracle(0));
        Assert.Throws<ArgumentException>(() => new RankingOracle([1, float.NaN]));
        Assert.Throws<ArgumentException>(() => new ArgmaxOracle(3).Solve([], []));
    }

    // FsCheck properties: invariants that must hold for any finite scores.
    private static float[] Finite(float[] raw) => raw.Select(v => float.IsFinite(v) ? Math.Clamp(v, -1e6f, 1e6f) : 0f).ToArray();

    [Property(MaxTest = 200)]
    public Property TopK_output_sums_to_k_for_any_scores(NonEmptyArray<float> raw, PositiveInt k0)
    {
        float[] theta = Finite(raw.Get);
        int k = (k0.Get - 1) % theta.Length + 1;
        float[] y = Solve(new TopKOracle(theta.Length, k), theta);
        // Every selected score is at least every unselected one.
        float minSelected = theta.Where((_, i) => y[i] == 1).Min();
        bool dominates = theta.Where((_, i) => y[i] == 0).All(v => v <= minSelected);
        return (y.Sum() == k && dominates).ToProperty();
    }

    [Property(MaxTest = 200)]
    public Property Ranking_output_is_a_permutation_of_the_reference_in_the_order_of_the_scores(NonEmptyArray<float> raw)
    {
        float[] theta = Finite(raw.Get);
        float[] y = Solve(new RankingOracle(theta.Length), theta);
        bool permutation = y.OrderBy(v => v).SequenceEqual(Enumerable.Range(1, theta.Length).Select(v => (float)v));
        bool ordered = true;
        for (int i = 0; i < theta.Length; i++)
            for (int j = 0; j < theta.Length; j++)
                if (theta[i] > theta[j] && y[i] < y[j]) ordered = false;
        return (permutation && ordered).ToProperty();
    }

    [Property(MaxTest = 100)]
    public Property Matching_output_is_doubly_stochastic_and_beats_the_identity(PositiveInt n0, int seed)
    {
        int n = (n0.Get - 1) % 12 + 1;
        float[] theta = TestMath.RandomVector(new System.Random(seed), n * n, 100);
        float[] y = Solve(new MatchingOracle(n), theta);
        bool doublyStochastic = Enumerable.Range(0, n).All(i =>
            Enumerable.Range(0, n).Sum(j => y[i * n + j]) == 1 && Enumerable.Range(0, n).Sum(j => y[j * n + i]) == 1);
        double identity = Enumerable.Range(0, n).Sum(i => (double)theta[i * n + i]);
        return (doublyStochastic && TestMath.Dot(y, theta) >= identity - 1e-3).ToProperty();
    }
}
