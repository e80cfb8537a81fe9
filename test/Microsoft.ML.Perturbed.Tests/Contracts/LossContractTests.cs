using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Contracts;

/// <summary>
/// A loss over one head in the contract: what its targets are and what its gradient is (from its descriptor for a
/// registered kind), and the loss built with a thread count. <see cref="PositiveScores"/>: θ must be positive
/// (multiplicative perturbation). Public for xunit, with the library's internal descriptions internal.
/// </summary>
public sealed class LossCase
{
    internal LossCase(string name, Oracle head, LabelKind targets, LossGradientKind gradient, Func<int, StructuredLoss> make,
        StructuredLossKind? kind = null, bool positiveScores = false)
    {
        (Name, Head, Targets, Gradient, Make, Kind, PositiveScores) = (name, head, targets, gradient, make, kind, positiveScores);
    }

    public string Name { get; }

    public Oracle Head { get; }

    public LabelKind Targets { get; }

    internal LossGradientKind Gradient { get; }

    internal Func<int, StructuredLoss> Make { get; }

    public StructuredLossKind? Kind { get; }

    public bool PositiveScores { get; }

    /// <summary>The contract's settings: small ε and M (few kinks at a fixed draw), λ of the order of projected scores.</summary>
    public static StructuredLossOptions Options(int threads) => new()
    {
        Epsilon = 0.5, Samples = 4, Seed = 3, BlackboxLambda = 0.5, MaxDegreeOfParallelism = threads,
    };

    /// <summary>A registered loss over a head, as its descriptor describes it.</summary>
    internal static LossCase Registered(LossDescriptor loss, string head, Oracle oracle) =>
        new($"{loss.Kind}/{head}", oracle, loss.Targets, loss.Gradient, threads => Seeded(loss.Create(oracle, Options(threads)), oracle, loss.Targets), loss.Kind);

    /// <summary>The draw of <see cref="Seeded"/>'s evaluation, which no check uses.</summary>
    public const ulong SeedingDraw = 1_000_003;

    /// <summary>
    /// A loss over a solution pool as training leaves it — its pool seeded: evaluated once on 16 random rows at
    /// <see cref="SeedingDraw"/>, whose targets' and scores' solutions join the pool at the next draw (an empty pool gives
    /// every row its own solution alone: value and gradient 0). Other losses as they are.
    /// </summary>
    internal static StructuredLoss Seeded(StructuredLoss loss, Oracle head, LabelKind targets)
    {
        if (loss is not PoolLoss) return loss;
        const int rows = 16;
        int d = head.Dimension;
        var rng = new System.Random(17);
        float[] scores = TestMath.RandomVector(rng, rows * d, 2), theta = TestMath.RandomVector(rng, rows * d, 2);
        if (head.Sense == OptimizationSense.Minimize) for (int i = 0; i < scores.Length; i++) scores[i] = 0.1f + Math.Abs(scores[i]);
        float[] target = scores;
        if (targets == LabelKind.Solution)
        {
            target = new float[rows * head.OutputDimension];
            head.Solve(scores, target);
        }
        loss.Evaluate(theta, target, new float[rows], new float[theta.Length], SeedingDraw);
        return loss;
    }

    public StructuredLoss Create(int threads) => Make(threads);

    public override string ToString() => Name;
}

/// <summary>
/// The contract every built-in loss gets for free (docs/architecture.md, "Contract tests"): the registry drives the data,
/// every <see cref="LossDescriptor"/> of <see cref="StructuredLosses.All"/> over maximizing heads (argmax, top-k, ranking,
/// knapsack — solutions of varying size) and a minimizing one (PyEPO's DAG shortest path). What the gradient is checked
/// against depends on the descriptor's <see cref="LossDescriptor.Gradient"/>:
/// <list type="bullet">
/// <item><see cref="LossGradientKind.Exact"/>: central finite differences of the value at a fixed draw (the value is
/// piecewise linear or smooth there; coordinates whose step crosses a kink — two step sizes disagree — are skipped, at
/// most a quarter of them).</item>
/// <item><see cref="LossGradientKind.Estimator"/>: a Monte-Carlo estimate of the expected value's gradient, whose own
/// value is piecewise constant at a fixed draw: averaged over draws and rows, −∇ points towards a prediction that gives the
/// target (the estimator itself is checked against its exact same-sample derivative in PerturbedOptimizerTests).</item>
/// <item><see cref="LossGradientKind.Surrogate"/>: that descent check, and a zero gradient at a prediction that already
/// gives the target (blackbox with the linear task loss, identity with the squared one, direct loss with a small σ, I-MLE
/// with every perturbed sample giving the target: there the target leads by far more than the noise).</item>
/// </list>
/// And for every loss: the same bits on one and all threads, a row independent of the rest of its batch, the same bits for
/// the same draw and for targets in their encoded form (<see cref="StructuredLoss.EncodeTargets"/>), bad input named. A new loss registered in <see cref="StructuredLosses"/> is covered without a line here.
/// A loss over a solution pool enters every check with its pool seeded (<see cref="LossCase.Seeded"/>), as in training.
/// </summary>
public class LossContractTests
{
    private static readonly (string Name, Oracle Head)[] s_heads =
    [
        ("Argmax", new ArgmaxOracle(5)),
        ("TopK(2)", new TopKOracle(5, 2)),
        ("Ranking", new RankingOracle(5)),
        ("Knapsack", new KnapsackOracle([2, 3, 4, 5, 1], 7)),
        ("DagShortestPath(3×3, minimizing)", DagShortestPathOracle.Grid(3, 3)),
    ];

    public static TheoryData<LossCase> Losses()
    {
        var data = new TheoryData<LossCase>();
        foreach (LossDescriptor loss in StructuredLosses.All)
        {
            foreach ((string name, Oracle head) in s_heads) data.Add(LossCase.Registered(loss, name, head));
        }
        // Configurations no kind names: the Gumbel-argmax closed form, and Fenchel-Young under multiplicative perturbation.
        var argmax = new ArgmaxOracle(5);
        data.Add(new LossCase("FenchelYoung(Gumbel, closed form)/Argmax", argmax, LabelKind.Solution, LossGradientKind.Exact, threads =>
            new FenchelYoungLoss(new PerturbedOptimizer(argmax, new PerturbedOptimizerOptions { Epsilon = 0.5, Noise = Perturbed.Noise.NoiseDistribution.Gumbel, MaxDegreeOfParallelism = threads }))));
        foreach ((string name, Oracle head) in s_heads)
        {
            data.Add(new LossCase($"FenchelYoung(multiplicative)/{name}", head, LabelKind.Solution, LossGradientKind.Exact, threads =>
                new FenchelYoungLoss(new PerturbedOptimizer(head, new PerturbedOptimizerOptions
                {
                    Epsilon = 0.5, Samples = 4, Seed = 3, Perturbation = PerturbationKind.Multiplicative, MaxDegreeOfParallelism = threads,
                })), positiveScores: true));
        }
        return data;
    }

    private static float[] Theta(LossCase c, StructuredLoss loss, int rows, int seed)
    {
        float[] theta = TestMath.RandomVector(new System.Random(seed), rows * loss.Dimension, 2);
        if (c.PositiveScores) for (int i = 0; i < theta.Length; i++) theta[i] = 0.5f + Math.Abs(theta[i]);
        return theta;
    }

    /// <summary>Targets of the kind the loss needs: the head's solutions of random scores, or the true costs (positive for a cost head).</summary>
    private static float[] Targets(LossCase c, int rows, int seed)
    {
        int d = c.Head.Dimension;
        float[] scores = TestMath.RandomVector(new System.Random(seed), rows * d, 2);
        if (c.Head.Sense == OptimizationSense.Minimize) for (int i = 0; i < scores.Length; i++) scores[i] = 0.1f + Math.Abs(scores[i]);
        if (c.Targets == LabelKind.Costs) return scores;
        var y = new float[rows * c.Head.OutputDimension];
        c.Head.Solve(scores, y);
        return y;
    }

    /// <summary>
    /// Scores whose solution is the target: the true costs themselves, or lead·sign·(y − ȳ) for a solution y (its entries
    /// lead the others by <paramref name="lead"/> per unit, default 3; for a cost head, cost less); extra outputs (direct
    /// loss's noise scale) at −5, σ ≈ 0.007.
    /// </summary>
    private static float[] PerfectTheta(LossCase c, StructuredLoss loss, float[] targets, int rows, float lead = 3)
    {
        int d = c.Head.Dimension, t = loss.TargetDimension, n = loss.Dimension;
        var theta = new float[rows * n];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> y = targets.AsSpan(r * t, t);
            Span<float> th = theta.AsSpan(r * n, n);
            th[d..].Fill(-5);
            if (c.Targets == LabelKind.Costs)
            {
                y[..d].CopyTo(th);
                continue;
            }
            float mean = 0;
            foreach (float v in y) mean += v / t;
            for (int i = 0; i < d; i++) th[i] = lead * c.Head.Sign * (y[i] - mean);
        }
        return theta;
    }

    private static (float[] Values, float[] Gradient, double Mean) Evaluate(StructuredLoss loss, float[] theta, float[] targets, ulong draw)
    {
        var values = new float[theta.Length / loss.Dimension];
        var gradient = new float[theta.Length];
        double mean = loss.Evaluate(theta, targets, values, gradient, draw);
        return (values, gradient, mean);
    }

    private static double Sum(StructuredLoss loss, float[] theta, float[] targets, ulong draw)
    {
        double s = 0;
        foreach (float v in Evaluate(loss, theta, targets, draw).Values) s += v;
        return s;
    }

    [Fact]
    public void Every_loss_kind_is_registered_once_and_an_unknown_one_is_named()
    {
        Assert.Equal(Enum.GetValues<StructuredLossKind>(), StructuredLosses.All.Select(d => d.Kind));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => StructuredLosses.Get((StructuredLossKind)99));
        Assert.Equal("kind", e.ParamName);
        Assert.Equal("kind", Assert.Throws<ArgumentOutOfRangeException>(() => StructuredLoss.Create(new ArgmaxOracle(3), (StructuredLossKind)99)).ParamName);
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void The_loss_has_the_shape_its_descriptor_declares(LossCase c)
    {
        StructuredLoss loss = c.Create(-1);
        Assert.Equal(c.Head.Dimension, loss.ScoreDimension);
        Assert.Equal(c.Targets == LabelKind.Costs ? c.Head.Dimension : c.Head.OutputDimension, loss.TargetDimension);
        if (c.Kind is { } kind) Assert.Equal(StructuredLoss.Create(c.Head, kind).GetType(), loss.GetType());
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void Gradient_matches_what_the_descriptor_says_it_is(LossCase c)
    {
        switch (c.Gradient)
        {
            case LossGradientKind.Exact:
                GradientIsTheDerivativeOfTheValue(c);
                break;
            case LossGradientKind.Estimator:
                GradientDescendsTowardsTheTarget(c);
                break;
            case LossGradientKind.Surrogate:
                GradientIsZeroAtAPerfectPrediction(c);
                GradientDescendsTowardsTheTarget(c);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(c), c.Gradient, "A gradient kind without a check in the loss contract.");
        }
    }

    private static void GradientIsTheDerivativeOfTheValue(LossCase c)
    {
        StructuredLoss loss = c.Create(-1);
        const int rows = 3;
        const ulong draw = 7;
        float[] theta = Theta(c, loss, rows, 1), targets = Targets(c, rows, 2);
        float[] gradient = Evaluate(loss, theta, targets, draw).Gradient;
        double FiniteDifference(int i, float h)
        {
            float[] plus = (float[])theta.Clone(), minus = (float[])theta.Clone();
            plus[i] += h;
            minus[i] -= h;
            return (Sum(loss, plus, targets, draw) - Sum(loss, minus, targets, draw)) / ((double)plus[i] - minus[i]);
        }
        int smooth = 0;
        double checkedMagnitude = 0;
        for (int i = 0; i < theta.Length; i++)
        {
            double fd = FiniteDifference(i, 2e-3f), fine = FiniteDifference(i, 5e-4f);
            if (Math.Abs(fd - fine) > 1e-2 * (1 + Math.Abs(fd))) continue;   // a kink inside the step
            smooth++;
            checkedMagnitude += Math.Abs(gradient[i]);
            Assert.True(Math.Abs(fd - gradient[i]) <= 2e-2 * (1 + Math.Abs(fd)), $"{c}: ∂L/∂θ[{i}] by finite differences {fd}, gradient {gradient[i]}");
        }
        Assert.True(smooth >= 3 * theta.Length / 4, $"{c}: only {smooth} of {theta.Length} coordinates away from a kink");
        Assert.True(checkedMagnitude > 0, $"{c}: every checked gradient entry is 0; the check saw nothing");
        GradientIntegratesToTheValue(c, loss, theta, targets, draw);
    }

    /// <summary>
    /// Along a segment that crosses many kinks, the trapezoidal integral of ⟨∇L, step⟩ equals the change of the value: the
    /// value is continuous and the gradient is its derivative between kinks (a value that jumps at a kink fails here).
    /// </summary>
    private static void GradientIntegratesToTheValue(LossCase c, StructuredLoss loss, float[] start, float[] targets, ulong draw)
    {
        const int steps = 1000;
        int n = loss.Dimension, rows = start.Length / n;
        float[] direction = TestMath.RandomVector(new System.Random(14), start.Length, c.PositiveScores ? 0.4 : 2);   // positive scores stay ≥ 0.1
        var integral = new double[rows];
        var theta = new float[start.Length];
        float[]? previousGradient = null, first = null, last = null;
        float[] previousTheta = start;
        for (int k = 0; k <= steps; k++)
        {
            for (int i = 0; i < theta.Length; i++) theta[i] = (float)(start[i] + (double)k / steps * direction[i]);
            (float[] values, float[] gradient, _) = Evaluate(loss, theta, targets, draw);
            if (previousGradient is not null)
            {
                for (int i = 0; i < theta.Length; i++) integral[i / n] += 0.5 * ((double)previousGradient[i] + gradient[i]) * ((double)theta[i] - previousTheta[i]);
            }
            first ??= values;
            last = values;
            previousGradient = gradient;
            previousTheta = (float[])theta.Clone();
        }
        for (int r = 0; r < rows; r++)
        {
            double change = (double)last![r] - first![r];
            Assert.True(Math.Abs(change - integral[r]) <= 2e-2 * (1 + Math.Abs(change)), $"{c}: row {r}'s value changes by {change} along the segment, its gradient integrates to {integral[r]}");
        }
    }

    private static void GradientIsZeroAtAPerfectPrediction(LossCase c)
    {
        StructuredLoss loss = c.Create(-1);
        const int rows = 8;
        // A lead far beyond the contract's noise (ε = 0.5): a perturbed surrogate (I-MLE) then sees the target in every
        // sample, as a deterministic one sees it at lead 3 (a knapsack's left-out items sit only 3ȳ below the threshold 0).
        float[] targets = Targets(c, rows, 3), theta = PerfectTheta(c, loss, targets, rows, lead: 60);
        for (ulong draw = 0; draw < 3; draw++)
        {
            float[] gradient = Evaluate(loss, theta, targets, draw).Gradient;
            Assert.True(gradient.All(v => v == 0), $"{c}: the gradient at a prediction that gives the target is [{string.Join(", ", gradient)}] at draw {draw}");
        }
    }

    private static void GradientDescendsTowardsTheTarget(LossCase c)
    {
        StructuredLoss loss = c.Create(-1);
        const int rows = 32, draws = 8;
        int n = loss.Dimension, d = loss.ScoreDimension;
        float[] theta = Theta(c, loss, rows, 4), targets = Targets(c, rows, 5), perfect = PerfectTheta(c, loss, targets, rows);
        double along = 0, magnitude = 0;
        for (ulong draw = 0; draw < draws; draw++)
        {
            float[] gradient = Evaluate(loss, theta, targets, draw).Gradient;
            for (int r = 0; r < rows; r++)
            {
                for (int i = 0; i < d; i++)
                {
                    along += gradient[r * n + i] * ((double)perfect[r * n + i] - theta[r * n + i]);
                    magnitude += Math.Abs(gradient[r * n + i]);
                }
            }
        }
        Assert.True(magnitude > 0, $"{c}: the gradient is 0 at every random prediction");
        Assert.True(along < 0, $"{c}: Σ⟨∇L, θ* − θ⟩ = {along} over {rows} rows and {draws} draws; −∇L should point towards predictions that give the target");
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void Same_bits_on_one_and_all_threads_and_for_the_same_draw(LossCase c)
    {
        const int rows = 64;
        StructuredLoss one = c.Create(1), all = c.Create(-1);
        float[] theta = Theta(c, one, rows, 6), targets = Targets(c, rows, 7);
        (float[] v1, float[] g1, double m1) = Evaluate(one, theta, targets, 11);
        (float[] v2, float[] g2, double m2) = Evaluate(all, theta, targets, 11);
        Assert.Equal(v1, v2);
        Assert.Equal(g1, g2);
        Assert.Equal(m1, m2);
        (float[] v3, float[] g3, double m3) = Evaluate(all, theta, targets, 11);
        Assert.Equal(v2, v3);
        Assert.Equal(g2, g3);
        Assert.Equal(m2, m3);
        Assert.All(g2, v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void A_row_does_not_depend_on_the_rest_of_its_batch(LossCase c)
    {
        StructuredLoss loss = c.Create(-1);
        const int rows = 4;
        int n = loss.Dimension, t = loss.TargetDimension;
        float[] thetaA = Theta(c, loss, rows, 8), thetaB = Theta(c, loss, rows, 9), targetsA = Targets(c, rows, 10), targetsB = Targets(c, rows, 11);
        thetaA.AsSpan(2 * n, n).CopyTo(thetaB.AsSpan(2 * n, n));   // row 2 equal, the others differ
        targetsA.AsSpan(2 * t, t).CopyTo(targetsB.AsSpan(2 * t, t));
        (float[] va, float[] ga, _) = Evaluate(loss, thetaA, targetsA, 5);
        (float[] vb, float[] gb, _) = Evaluate(loss, thetaB, targetsB, 5);
        Assert.Equal(va[2], vb[2]);
        Assert.Equal(ga.AsSpan(2 * n, n).ToArray(), gb.AsSpan(2 * n, n).ToArray());
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void Encoded_targets_give_the_same_bits(LossCase c)
    {
        StructuredLoss loss = c.Create(-1);
        const int rows = 16;
        float[] theta = Theta(c, loss, rows, 15), targets = Targets(c, rows, 16);
        var encoded = new float[rows * loss.EncodedTargetDimension];
        loss.EncodeTargets(targets, encoded);
        if (loss.EncodedTargetDimension == loss.TargetDimension) Assert.Equal(targets, encoded);
        (float[] v1, float[] g1, double m1) = Evaluate(loss, theta, targets, 3);
        (float[] v2, float[] g2, double m2) = Evaluate(loss, theta, encoded, 3);
        Assert.Equal(v1, v2);
        Assert.Equal(g1, g2);
        Assert.Equal(m1, m2);
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void Bad_input_is_named(LossCase c)
    {
        StructuredLoss loss = c.Create(-1);
        int n = loss.Dimension, t = loss.TargetDimension;
        float[] theta = Theta(c, loss, 2, 12), targets = Targets(c, 2, 13);
        float[] nan = (float[])theta.Clone();
        nan[n + 1] = float.NaN;
        var e = Assert.ThrowsAny<ArgumentException>(() => Evaluate(loss, nan, targets, 0));
        Assert.Equal("theta", e.ParamName);
        Assert.Contains("row 1, column 1", e.Message);
        Assert.Equal("theta", Assert.ThrowsAny<ArgumentException>(() => Evaluate(loss, theta[..^1], targets, 0)).ParamName);
        Assert.Equal("target", Assert.ThrowsAny<ArgumentException>(() => Evaluate(loss, theta, targets[..^1], 0)).ParamName);
        Assert.Equal("target", Assert.ThrowsAny<ArgumentException>(() => Evaluate(loss, theta, [.. targets, .. targets[..t]], 0)).ParamName);
        float[] badTarget = (float[])targets.Clone();
        badTarget[t] = float.PositiveInfinity;
        Assert.Equal("target", Assert.ThrowsAny<ArgumentException>(() => Evaluate(loss, theta, badTarget, 0)).ParamName);
        Assert.Equal("loss", Assert.ThrowsAny<ArgumentException>(() => loss.Evaluate(theta, targets, new float[1], new float[theta.Length])).ParamName);
        Assert.Equal("gradient", Assert.ThrowsAny<ArgumentException>(() => loss.Evaluate(theta, targets, new float[2], new float[theta.Length - 1])).ParamName);
    }
}
