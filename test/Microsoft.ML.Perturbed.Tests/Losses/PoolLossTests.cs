using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Losses;

/// <summary>
/// The losses over a solution pool (NCE, CMAP, pointwise, pairwise and listwise LTR): each value and gradient against its
/// formula evaluated by brute force over an explicit pool, in both senses; how the pool grows (seeded by training, a
/// draw's solutions joining at the next draw, deduplicated, nothing from validation); the solve ratio; determinism.
/// </summary>
public class PoolLossTests
{
    private static readonly StructuredLossKind[] s_kinds =
    [
        StructuredLossKind.NoiseContrastive, StructuredLossKind.ContrastiveMap, StructuredLossKind.PointwiseRanking,
        StructuredLossKind.PairwiseRanking, StructuredLossKind.ListwiseRanking,
    ];

    public static TheoryData<StructuredLossKind, string> KindsAndHeads()
    {
        var data = new TheoryData<StructuredLossKind, string>();
        foreach (StructuredLossKind kind in s_kinds)
        {
            data.Add(kind, "TopK");
            data.Add(kind, "Path");
        }
        return data;
    }

    private static Oracle Head(string name) => name switch
    {
        "TopK" => new TopKOracle(5, 2),                  // maximizes scores
        "Path" => DagShortestPathOracle.Grid(3, 3),      // minimizes costs
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static bool IsRanking(StructuredLossKind kind) => kind is StructuredLossKind.PointwiseRanking or StructuredLossKind.PairwiseRanking or StructuredLossKind.ListwiseRanking;

    private static double Dot(float[] a, ReadOnlySpan<float> b) => TestMath.Dot(a, b);

    /// <summary>The formula of DESIGN.md §11 in its cost form (s = −1) or score form (s = 1), straight from the pool's list.</summary>
    private static double Formula(StructuredLossKind kind, int s, float[] theta, float[] t, float[] star, List<float[]> set)
    {
        int n = set.Count;
        double[] z = set.Select(w => Dot(theta, w)).ToArray(), u = set.Select(w => Dot(t, w)).ToArray();
        double zStar = Dot(theta, star);
        switch (kind)
        {
            case StructuredLossKind.NoiseContrastive:
                return set.Sum(w => s * (Dot(theta, w) - zStar)) / n;
            case StructuredLossKind.ContrastiveMap:
                return s == 1 ? z.Max() - zStar : zStar - z.Min();
            case StructuredLossKind.PointwiseRanking:
                return Enumerable.Range(0, n).Sum(k => (u[k] - z[k]) * (u[k] - z[k])) / n;
            case StructuredLossKind.PairwiseRanking:
            {
                int best = s == 1 ? Array.IndexOf(u, u.Max()) : Array.IndexOf(u, u.Min());
                return n == 1 ? 0 : Enumerable.Range(0, n).Where(k => k != best).Sum(k => Math.Max(0, s * (z[k] - z[best]))) / (n - 1);
            }
            case StructuredLossKind.ListwiseRanking:
            {
                double lseZ = Math.Log(z.Sum(v => Math.Exp(s * v))), lseU = Math.Log(u.Sum(v => Math.Exp(s * v)));
                return -Enumerable.Range(0, n).Sum(k => Math.Exp(s * u[k] - lseU) * (s * z[k] - lseZ));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>Targets of <paramref name="rows"/> rows (costs or their solutions), their solutions, and scores.</summary>
    private static (float[] Targets, float[] Solutions, float[] Theta) Rows(Oracle head, StructuredLossKind kind, int rows, int seed)
    {
        var rng = new System.Random(seed);
        int d = head.Dimension;
        float[] costs = TestMath.RandomVector(rng, rows * d, 2).Select(v => head.Sign < 0 ? 0.1f + Math.Abs(v) : v).ToArray();
        float[] theta = TestMath.RandomVector(rng, rows * d, 1.5);
        var solutions = new float[rows * d];
        head.Solve(costs, solutions);
        return (IsRanking(kind) ? costs : solutions, solutions, theta);
    }

    private static PoolLoss Create(Oracle head, StructuredLossKind kind, double solveRatio = 1, int threads = -1, int seed = 0) =>
        (PoolLoss)StructuredLoss.Create(head, kind, new StructuredLossOptions { SolveRatio = solveRatio, MaxDegreeOfParallelism = threads, Seed = seed });

    private static List<float[]> Members(PoolLoss loss) =>
        Enumerable.Range(0, loss.Pool.Count).Select(k => loss.Pool.Row(k).ToArray()).ToList();

    [Theory]
    [MemberData(nameof(KindsAndHeads))]
    public void Value_and_gradient_are_the_formula_over_the_pool_and_the_row_solution(StructuredLossKind kind, string headName)
    {
        Oracle head = Head(headName);
        PoolLoss loss = Create(head, kind);
        int d = head.Dimension;
        // Seed the pool: one call stages its rows' solutions and its scores' solutions; the next draw commits them.
        (float[] seedTargets, _, float[] seedTheta) = Rows(head, kind, 6, 1);
        loss.Evaluate(seedTheta, seedTargets, new float[6], new float[seedTheta.Length], 0);
        (float[] targets, float[] solutions, float[] theta) = Rows(head, kind, 8, 2);
        var values = new float[8];
        var gradient = new float[theta.Length];
        loss.Evaluate(theta, targets, values, gradient, 1);
        List<float[]> pool = Members(loss);
        Assert.InRange(pool.Count, 2, 12);
        for (int r = 0; r < 8; r++)
        {
            float[] th = theta[(r * d)..((r + 1) * d)], t = targets[(r * d)..((r + 1) * d)], star = solutions[(r * d)..((r + 1) * d)];
            var set = new List<float[]>(pool);
            if (!set.Any(w => w.SequenceEqual(star))) set.Add(star);
            double expected = Formula(kind, head.Sign, th, t, star, set);
            Assert.Equal(expected, values[r], 4);
            // The gradient: central differences of the formula itself (the pool held fixed).
            for (int i = 0; i < d; i++)
            {
                float[] plus = (float[])th.Clone(), minus = (float[])th.Clone();
                plus[i] += 1e-3f;
                minus[i] -= 1e-3f;
                double fd = (Formula(kind, head.Sign, plus, t, star, set) - Formula(kind, head.Sign, minus, t, star, set)) / ((double)plus[i] - minus[i]);
                Assert.True(Math.Abs(fd - gradient[r * d + i]) < 2e-3 * (1 + Math.Abs(fd)), $"{kind}/{headName} row {r} column {i}: formula's derivative {fd}, gradient {gradient[r * d + i]}");
            }
        }
    }

    [Fact]
    public void The_pool_is_seeded_with_the_training_solutions_grows_a_draw_later_and_keeps_each_solution_once()
    {
        var head = DagShortestPathOracle.Grid(3, 3);
        PoolLoss loss = Create(head, StructuredLossKind.ContrastiveMap);
        (float[] targets, float[] solutions, float[] theta) = Rows(head, StructuredLossKind.ContrastiveMap, 40, 3);
        loss.BeginTraining(TrainingSource.FromArrays(new float[40 * 2], targets, 2, head.Dimension));
        int d = head.Dimension;
        // Distinct solutions, in the order of their first row.
        var distinct = new List<float[]>();
        for (int r = 0; r < 40; r++)
        {
            float[] y = solutions[(r * d)..((r + 1) * d)];
            if (!distinct.Any(w => w.SequenceEqual(y))) distinct.Add(y);
        }
        Assert.True(distinct.Count < 40, "the test wants repeated solutions");
        Assert.Equal(distinct, Members(loss));
        // A draw stages what it finds; its own calls and the validation draw do not see it; the next draw does.
        float[] far = theta.Select(v => 50 * v).ToArray();
        var found = new float[theta.Length];
        head.Solve(far, found);
        var fresh = new List<float[]>();
        for (int r = 0; r < 40; r++)
        {
            float[] y = found[(r * d)..((r + 1) * d)];
            if (!distinct.Any(w => w.SequenceEqual(y)) && !fresh.Any(w => w.SequenceEqual(y))) fresh.Add(y);
        }
        loss.Evaluate(far, targets, new float[40], new float[far.Length], 5);
        Assert.Equal(distinct.Count, loss.Pool.Count);
        Assert.Equal(fresh.Count, loss.Pool.StagedCount);
        loss.Evaluate(far, targets, new float[40], new float[far.Length], 5);
        Assert.Equal(fresh.Count, loss.Pool.StagedCount);
        loss.Evaluate(far, targets, new float[40], new float[far.Length], PoolLoss.ValidationDraw);
        Assert.Equal(distinct.Count + fresh.Count, loss.Pool.Count);
        Assert.Equal(0, loss.Pool.StagedCount);
        Assert.Equal([.. distinct, .. fresh], Members(loss));
        loss.Evaluate(far, targets, new float[40], new float[far.Length], 6);
        Assert.Equal(distinct.Count + fresh.Count, loss.Pool.Count + loss.Pool.StagedCount);   // nothing new: deduplicated
        // Training starts again from the training solutions alone.
        loss.BeginTraining(TrainingSource.FromArrays(new float[40 * 2], targets, 2, head.Dimension));
        Assert.Equal(distinct, Members(loss));
    }

    [Fact]
    public void Equal_values_are_one_solution_and_minus_zero_is_zero()
    {
        var pool = new SolutionPool(3);
        Assert.True(pool.Stage([1, 0, 2]));
        Assert.False(pool.Stage([1, -0f, 2]));
        Assert.True(pool.Stage([0, 1, 2]));
        Assert.Equal(-1, pool.IndexOf([1, 0, 2]));   // staged, not a member yet
        pool.Commit();
        Assert.Equal(0, pool.IndexOf([1, -0f, 2]));
        Assert.Equal(1, pool.IndexOf([0, 1, 2]));
        for (int i = 0; i < 1000; i++) pool.Stage([i, i % 7, -i]);   // grows and rehashes
        pool.Commit();
        Assert.Equal(1002, pool.Count);   // none of them repeats the first two
        for (int i = 0; i < 1000; i++) Assert.Equal(i + 2, pool.IndexOf([i, i % 7, -i]));
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.05)]
    public void A_solve_ratio_below_one_calls_the_oracle_on_about_that_share_of_the_steps(double ratio)
    {
        var grid = DagShortestPathOracle.Grid(3, 3);
        int d = grid.Dimension, solvedRows = 0, steps = 0;
        Oracle counting = Oracle.Create(d, d, (c, y) =>
        {
            Interlocked.Increment(ref solvedRows);
            grid.Solve(c, y, maxDegreeOfParallelism: 1);
        }, "CountingPath", OptimizationSense.Minimize);
        const int n = 64, batch = 8, epochs = 100;
        var rng = new System.Random(4);
        float[] x = TestMath.RandomVector(rng, n * 3);
        float[] costs = TestMath.RandomVector(rng, n * d).Select(v => 0.1f + Math.Abs(v)).ToArray();
        var paths = new float[n * d];
        grid.Solve(costs, paths);
        var options = new StructuredTrainerOptions
        {
            Loss = StructuredLossKind.NoiseContrastive, SolveRatio = ratio, NumberOfIterations = epochs, BatchSize = batch, Seed = 9,
        };
        StructuredTrainer.Fit(counting, x, paths, 3, options);
        steps = epochs * n / batch;
        Assert.Equal(0, solvedRows % batch);   // whole steps: every row of a solving step, none of the others
        double share = (double)(solvedRows / batch) / steps;
        double sd = Math.Sqrt(ratio * (1 - ratio) / steps);
        Assert.InRange(share, ratio - 4 * sd, ratio + 4 * sd);
    }

    [Fact]
    public void A_solve_ratio_outside_zero_to_one_is_refused_naming_it()
    {
        foreach (double bad in new[] { 0, -0.1, 1.5, double.NaN })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => StructuredLoss.Create(new ArgmaxOracle(3), StructuredLossKind.NoiseContrastive, new StructuredLossOptions { SolveRatio = bad }));
            Assert.Equal("SolveRatio", e.ParamName);
        }
        Assert.Equal(1, new StructuredLossOptions().SolveRatio);
        Oracle wider = Oracle.Create(3, 4, (t, y) => y[0] = 1, "Wider");
        Assert.Equal("oracle", Assert.Throws<ArgumentException>(() => StructuredLoss.Create(wider, StructuredLossKind.ContrastiveMap)).ParamName);
    }

    [Theory]
    [InlineData(StructuredLossKind.NoiseContrastive)]
    [InlineData(StructuredLossKind.PairwiseRanking)]
    [InlineData(StructuredLossKind.ListwiseRanking)]
    public void Training_gives_the_same_bits_on_one_and_all_threads_and_for_the_same_seed(StructuredLossKind kind)
    {
        var grid = DagShortestPathOracle.Grid(3, 3);
        int d = grid.Dimension;
        const int n = 96;
        var rng = new System.Random(5);
        float[] x = TestMath.RandomVector(rng, n * 4);
        float[] costs = TestMath.RandomVector(rng, n * d).Select(v => 0.1f + Math.Abs(v + x[0])).ToArray();
        float[] targets = costs;
        if (!IsRanking(kind))
        {
            targets = new float[n * d];
            grid.Solve(costs, targets);
        }
        float[] Scores(int threads, int seed)
        {
            var options = new StructuredTrainerOptions { Loss = kind, SolveRatio = 0.3, NumberOfIterations = 6, BatchSize = 16, Seed = seed, MaxDegreeOfParallelism = threads };
            IScoreModel model = StructuredTrainer.Fit(grid, x, targets, 4, options);
            var scores = new float[n * d];
            model.Score(x, scores);
            return scores;
        }
        float[] one = Scores(1, 3);
        Assert.Equal(one, Scores(-1, 3));
        Assert.Equal(one, Scores(1, 3));
        Assert.NotEqual(one, Scores(1, 4));
    }

    [Theory]
    [InlineData(StructuredLossKind.NoiseContrastive)]
    [InlineData(StructuredLossKind.ContrastiveMap)]
    [InlineData(StructuredLossKind.PointwiseRanking)]
    [InlineData(StructuredLossKind.PairwiseRanking)]
    [InlineData(StructuredLossKind.ListwiseRanking)]
    public void Training_lowers_the_regret_of_a_shortest_path_model(StructuredLossKind kind)
    {
        var grid = DagShortestPathOracle.Grid(5, 5);
        (float[] x, float[] c) = Evaluation.DecisionData.ShortestPath(500, 5, 2, 0.5, seed: 11);
        int d = grid.Dimension;
        float[] cTrain = c[..(400 * d)], cTest = c[(400 * d)..];
        float[] targets = cTrain;
        if (!IsRanking(kind))
        {
            targets = new float[cTrain.Length];
            grid.Solve(cTrain, targets);
        }
        var options = new StructuredTrainerOptions { Loss = kind, SolveRatio = 0.05, NumberOfIterations = 10, BatchSize = 32, Seed = 1 };
        IScoreModel model = StructuredTrainer.Fit(grid, x[..(400 * 5)], targets, 5, options);
        var cHat = new float[cTest.Length];
        model.Score(x[(400 * 5)..], cHat);
        double regret = Evaluation.DecisionMetrics.Evaluate(grid, cHat, cTest).NormalizedRegret;
        double constant = Evaluation.DecisionMetrics.Evaluate(grid, Enumerable.Repeat(1f, cTest.Length).ToArray(), cTest).NormalizedRegret;
        Assert.True(regret < 0.7 * constant, $"{kind}: normalized regret {regret:P2}, a constant cost's {constant:P2}");
    }
}
