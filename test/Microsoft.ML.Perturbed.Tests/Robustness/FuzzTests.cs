using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Sorting;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Tests.Robustness;

/// <summary>
/// The project's own fuzz suite (seeded, a few hundred cases): every case either returns a correct result — invariants
/// that hold at every scale, the float64 computation, or the exact limit — or throws an exception of the right type that
/// names the argument (and the row and column for a bad value). Nothing may come back NaN, ∞ or silently wrong.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    private static readonly double[] Magnitudes = [1.4e-45, 1e-30, 1e-6, 1, 1e6, 1e30, 3.4e38];
    private static readonly double[] Strengths = [0, 5e-324, 1e-300, 1e-40, 1e-10, 1e-3, 0.5, 1, 1e3, 1e10, 1e300];
    private static readonly int[] Lengths = [1, 2, 3, 5, 8, 17];

    private enum Pattern { Random, Ties, AllEqual, Bad }

    private sealed record Case(int Index, string Operator, int N, int Batch, double Magnitude, double Epsilon, Pattern Pattern, int BadRow, int BadColumn, float BadValue)
    {
        public override string ToString() => $"#{Index} {Operator} n={N} batch={Batch} |θ|~{Magnitude:G2} ε={Epsilon:G2} {Pattern}" + (Pattern == Pattern.Bad ? $" {BadValue} at ({BadRow}, {BadColumn})" : "");
    }

    private static IEnumerable<Case> Cases(string[] operators, int count, int seed)
    {
        var rng = new System.Random(seed);
        for (int i = 0; i < count; i++)
        {
            int n = Lengths[rng.Next(Lengths.Length)], batch = rng.Next(1, 4);
            var pattern = (Pattern)rng.Next(4);
            yield return new Case(i, operators[rng.Next(operators.Length)], n, batch, Magnitudes[rng.Next(Magnitudes.Length)], Strengths[rng.Next(Strengths.Length)],
                pattern, rng.Next(batch), rng.Next(n), new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity }[rng.Next(3)]);
        }
    }

    private static float[] Input(Case c, int seed)
    {
        var rng = new System.Random(seed);
        var x = new float[c.Batch * c.N];
        for (int i = 0; i < x.Length; i++)
        {
            double u = c.Pattern switch
            {
                Pattern.Random or Pattern.Bad => rng.NextDouble() * 2 - 1,
                Pattern.Ties => rng.Next(-1, 2),
                Pattern.AllEqual => 0.75,
                _ => throw new ArgumentOutOfRangeException(nameof(c)),
            };
            x[i] = (float)Math.Clamp(u * c.Magnitude, -float.MaxValue, float.MaxValue);
        }
        if (c.Pattern == Pattern.Bad) x[c.BadRow * c.N + c.BadColumn] = c.BadValue;
        return x;
    }

    /// <summary>A bad value must be refused naming the argument, its row and its column.</summary>
    private static void AssertNamesTheBadValue(Case c, Action call, string argument)
    {
        var e = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(argument, e.ParamName);
        Assert.Contains($"row {c.BadRow}, column {c.BadColumn}", e.Message);
    }

    private static bool IsRefusalOfEpsilon(Exception e) =>
        e is ArgumentOutOfRangeException { ParamName: "epsilon" or "vjp" or "solution" } && e.Message.Contains('ε');

    /// <summary>Hard (ε → 0) ascending ranks of a row, ties sharing their mean rank.</summary>
    private static double[] HardRanks(ReadOnlySpan<float> x)
    {
        var ranks = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int below = 0, equal = 0;
            for (int j = 0; j < x.Length; j++)
            {
                if (x[j] < x[i]) below++;
                else if (x[j] == x[i]) equal++;
            }
            ranks[i] = below + (equal + 1) / 2.0;
        }
        return ranks;
    }

    /// <summary>y lies in the permutahedron of ρ = (1..n): Σ y = Σ ρ and every k smallest entries sum to at least the k smallest of ρ.</summary>
    private static void AssertInPermutahedron(ReadOnlySpan<float> y, string what, double tolerance = 1e-4)
    {
        int n = y.Length;
        double[] sorted = y.ToArray().Select(v => (double)v).Order().ToArray();
        double partial = 0;
        for (int k = 0; k < n; k++)
        {
            partial += sorted[k];
            double floor = (k + 1) * (k + 2) / 2.0;
            Assert.True(partial >= floor - tolerance * n * n, $"{what}: the {k + 1} smallest sum to {partial} < {floor}");
        }
        Assert.Equal(n * (n + 1) / 2.0, partial, tolerance * n * n);
    }

    [Fact]
    public void Soft_ranks_and_sorts_at_every_scale_and_strength()
    {
        string[] operators = ["RankL2", "RankKL", "RankL2Desc", "SortL2", "SortKL", "SortKLDesc", "QuantileL2"];
        int ok = 0, refused = 0;
        foreach (Case c in Cases(operators, 400, seed: 1))
        {
            float[] x = Input(c, c.Index);
            PermutahedronProjection op;
            try
            {
                op = Create(c);
            }
            catch (ArgumentOutOfRangeException e)
            {
                Assert.Equal("epsilon", e.ParamName);
                refused++;
                continue;
            }
            var y = new float[x.Length];
            if (c.Pattern == Pattern.Bad)
            {
                AssertNamesTheBadValue(c, () => op.Forward(x, y), "theta");
                continue;
            }
            float[] g = TestMath.RandomVector(new System.Random(c.Index), x.Length);
            var vjp = new float[x.Length];
            try
            {
                op.ForwardVjp(x, g, y, vjp);
            }
            catch (ArgumentOutOfRangeException e) when (IsRefusalOfEpsilon(e))
            {
                refused++;   // a derivative of order 1/ε that float cannot hold, or θ/ε out of double's range away from the limit
                continue;
            }
            Assert.All(y, v => Assert.True(float.IsFinite(v), $"{c}: output {v}"));
            Assert.All(vjp, v => Assert.True(float.IsFinite(v), $"{c}: VJP {v}"));
            // Against the float64 computation of the same operator.
            var yDouble = new double[x.Length];
            op.Forward(x.Select(v => (double)v).ToArray(), yDouble);
            for (int r = 0; r < c.Batch; r++)
            {
                ReadOnlySpan<float> row = x.AsSpan(r * c.N, c.N), out1 = y.AsSpan(r * c.N, c.N);
                double scale = Math.Max(1, row.ToArray().Max(v => Math.Abs((double)v)));
                for (int i = 0; i < c.N; i++)
                {
                    Assert.True(Math.Abs(out1[i] - yDouble[r * c.N + i]) <= 1e-5 * Math.Max(scale, Math.Abs(yDouble[r * c.N + i])), $"{c}: float {out1[i]} vs double {yDouble[r * c.N + i]}");
                }
                CheckInvariants(c, op, row, out1);
            }
            ok++;
        }
        output.WriteLine($"{ok} correct results, {refused} clear refusals");
        Assert.True(ok > 150, $"only {ok} cases produced results");
    }

    private static PermutahedronProjection Create(Case c) => c.Operator switch
    {
        "RankL2" => new SoftRank(c.N, c.Epsilon),
        "RankKL" => new SoftRank(c.N, c.Epsilon, SoftRegularization.KL),
        "RankL2Desc" => new SoftRank(c.N, c.Epsilon, SoftRegularization.L2, SortDirection.Descending),
        "SortL2" => new SoftSort(c.N, c.Epsilon),
        "SortKL" => new SoftSort(c.N, c.Epsilon, SoftRegularization.KL),
        "SortKLDesc" => new SoftSort(c.N, c.Epsilon, SoftRegularization.KL, SortDirection.Descending),
        "QuantileL2" => new SoftQuantileNormalization(QuantileTargets.Uniform(c.N), c.Epsilon),
        _ => throw new ArgumentOutOfRangeException(nameof(c), c.Operator, "Unknown fuzz operator."),
    };

    private static void CheckInvariants(Case c, PermutahedronProjection op, ReadOnlySpan<float> row, ReadOnlySpan<float> y)
    {
        int n = c.N;
        bool descending = op.Direction == SortDirection.Descending;
        if (op is SoftRank)
        {
            float[] ascending = descending ? y.ToArray().Select(v => n + 1 - v).ToArray() : y.ToArray();
            AssertInPermutahedron(ascending, c.ToString());
            // Order: a larger input never gets a smaller (ascending) rank.
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (row[i] > row[j]) Assert.True(ascending[i] >= ascending[j] - 1e-4, $"{c}: order broken at ({i}, {j})");
            // The exact limit: hard ranks, ties averaged, once ε is 0 or every gap exceeds n·ε.
            double minGap = MinGap(row);
            if (c.Epsilon == 0 || minGap > 4 * n * c.Epsilon)
            {
                double[] hard = HardRanks(row);
                for (int i = 0; i < n; i++) Assert.Equal(hard[i], ascending[i], 4);
            }
        }
        else if (op is SoftSort)
        {
            for (int k = 0; k + 1 < n; k++) Assert.True(descending ? y[k] >= y[k + 1] : y[k] <= y[k + 1], $"{c}: not sorted at {k}");
            double scale = Math.Max(1, row.ToArray().Max(v => Math.Abs((double)v)));
            if (op.Regularization == SoftRegularization.L2)
            {
                Assert.Equal(row.ToArray().Sum(v => (double)v), y.ToArray().Sum(v => (double)v), 1e-5 * n * scale);
            }
            if (c.Epsilon == 0 || MaxGap(row) * c.Epsilon * (Math.Log(n) + 1) < 0.5)
            {
                float[] exact = row.ToArray().Order().ToArray();
                if (descending) Array.Reverse(exact);
                for (int k = 0; k < n; k++) Assert.True(Math.Abs(exact[k] - y[k]) <= 1e-5 * scale, $"{c}: exact sort {exact[k]} vs {y[k]}");
            }
        }
    }

    private static double MinGap(ReadOnlySpan<float> row)
    {
        double[] s = row.ToArray().Select(v => (double)v).Order().ToArray();
        double min = double.PositiveInfinity;
        for (int k = 0; k + 1 < s.Length; k++) if (s[k + 1] > s[k]) min = Math.Min(min, s[k + 1] - s[k]);
        return min;
    }

    private static double MaxGap(ReadOnlySpan<float> row) => row.ToArray().Max(v => (double)v) - row.ToArray().Min(v => (double)v);

    [Fact]
    public void Perturbed_heads_and_losses_at_every_scale()
    {
        string[] operators = ["Ranking", "Argmax", "TopK", "FenchelYoung"];
        int ok = 0, refused = 0;
        foreach (Case c in Cases(operators, 240, seed: 2))
        {
            float[] x = Input(c, c.Index);
            Oracle head = c.Operator switch
            {
                "Ranking" or "FenchelYoung" => new RankingOracle(c.N),
                "Argmax" => new ArgmaxOracle(c.N),
                "TopK" => new TopKOracle(c.N, (c.N + 1) / 2),
                _ => throw new ArgumentOutOfRangeException(nameof(c), c.Operator, "Unknown fuzz operator."),
            };
            PerturbedOptimizer opt;
            try
            {
                opt = new PerturbedOptimizer(head, new PerturbedOptimizerOptions { Epsilon = c.Epsilon, Samples = 8, Seed = c.Index });
            }
            catch (ArgumentOutOfRangeException e)
            {
                Assert.Equal("options", e.ParamName);
                Assert.True(!(c.Epsilon >= PerturbedOptimizerOptions.MinEpsilon && c.Epsilon <= PerturbedOptimizerOptions.MaxEpsilon), $"{c}: refused a valid ε");
                refused++;
                continue;
            }
            var y = new float[x.Length];
            if (c.Pattern == Pattern.Bad)
            {
                AssertNamesTheBadValue(c, () => opt.Forward(x, y), "theta");
                continue;
            }
            if (c.Operator == "FenchelYoung")
            {
                // Targets: the hard ranks of θ itself, so the loss is small at every scale (≤ its value at θ = 0 plus the noise).
                float[] target = new float[x.Length];
                head.Solve(x, target);
                var values = new float[c.Batch];
                try
                {
                    new FenchelYoungLoss(opt).Evaluate(x, target, values, new float[x.Length]);
                }
                catch (ArgumentException e) when (e.Message.Contains("overflow"))
                {
                    refused++;   // θ + εZ beyond float (scores near float's maximum with a large ε)
                    continue;
                }
                Assert.All(values, v => Assert.True(float.IsFinite(v) && Math.Abs(v) <= 10 * c.Epsilon * c.N * c.N + 1e-3 * c.N, $"{c}: FY value {v}"));
                ok++;
                continue;
            }
            var fHat = new double[c.Batch];
            var vjp = new float[x.Length];
            try
            {
                opt.Forward(x, y, fHat);
                opt.ForwardVjp(x, TestMath.RandomVector(new System.Random(c.Index), x.Length), y, vjp);
            }
            catch (ArgumentException e) when (e.Message.Contains("overflow") || IsRefusalOfEpsilon(e) || e.ParamName == "vjp")
            {
                refused++;
                continue;
            }
            Assert.All(fHat, v => Assert.True(double.IsFinite(v), $"{c}: F̂ {v}"));
            Assert.All(vjp, v => Assert.True(float.IsFinite(v), $"{c}: VJP {v}"));
            for (int r = 0; r < c.Batch; r++)
            {
                ReadOnlySpan<float> row = y.AsSpan(r * c.N, c.N);
                switch (c.Operator)
                {
                    case "Ranking":
                        AssertInPermutahedron(row, c.ToString());
                        break;
                    case "Argmax":
                        Assert.All(row.ToArray(), v => Assert.InRange(v, 0f, 1f));
                        Assert.Equal(1, row.ToArray().Sum(), 4);
                        break;
                    case "TopK":
                        Assert.All(row.ToArray(), v => Assert.InRange(v, 0f, 1f));
                        Assert.Equal((c.N + 1) / 2, row.ToArray().Sum(), 4);
                        break;
                    default:
                        throw new ArgumentOutOfRangeException(nameof(c), c.Operator, "Unknown fuzz operator.");
                }
            }
            ok++;
        }
        output.WriteLine($"{ok} correct results, {refused} clear refusals");
        Assert.True(ok > 80, $"only {ok} cases produced results");
    }

    [Fact]
    public void Sinkhorn_at_every_scale_is_finite_in_range_or_refuses_epsilon()
    {
        int ok = 0;
        foreach (Case c in Cases(["Rank", "Sort", "Cdf"], 120, seed: 3))
        {
            if (c.N > 8) continue;
            float[] x = Input(c, c.Index);
            SinkhornSorting op;
            try
            {
                op = new SinkhornSorting(c.N, new SinkhornOptions
                {
                    Epsilon = c.Epsilon, MaxIterations = 200,
                    Output = c.Operator == "Rank" ? SinkhornOutput.Rank : c.Operator == "Sort" ? SinkhornOutput.Sort : SinkhornOutput.Cdf,
                });
            }
            catch (ArgumentOutOfRangeException e)
            {
                Assert.Equal("options", e.ParamName);
                Assert.True(!(c.Epsilon >= SinkhornSorting.MinEpsilon), $"{c}: refused a valid ε");
                continue;
            }
            var y = new float[c.Batch * op.OutputDimension];
            if (c.Pattern == Pattern.Bad)
            {
                AssertNamesTheBadValue(c, () => op.Forward(x, y), "theta");
                continue;
            }
            op.ForwardVjp(x, TestMath.RandomVector(new System.Random(c.Index), y.Length), y, new float[x.Length]);
            Assert.All(y, v => Assert.True(float.IsFinite(v), $"{c}: {v}"));
            if (c.Operator == "Rank") Assert.All(y, v => Assert.InRange(v, -1e-3f, c.N + 1e-3f));
            if (c.Operator == "Cdf") Assert.All(y, v => Assert.InRange(v, -1e-4f, 1 + 1e-4f));
            if (c.Operator == "Sort")
            {
                double lo = x.Min(), hi = x.Max();
                Assert.All(y, v => Assert.InRange(v, lo - 1e-5 * Math.Abs(lo) - 1e-30, hi + 1e-5 * Math.Abs(hi) + 1e-30));
            }
            Assert.True(op.Convergence.Rows >= c.Batch);
            ok++;
        }
        output.WriteLine($"{ok} correct results");
        Assert.True(ok > 20);
    }

    // Properties that must hold at every scale: magnitudes from 1e-45 to 3.4e38 through an exponent.
    private static float[] Scaled(float[] raw, int exponent)
    {
        double scale = Math.Pow(10, Math.Clamp(exponent % 77, -44, 38));
        return raw.Select(v => float.IsFinite(v) ? (float)Math.Clamp(Math.Clamp(v, -3.4, 3.4) * scale, -float.MaxValue, float.MaxValue) : 0f).ToArray();
    }

    [Property(MaxTest = 150)]
    public Property Soft_ranks_lie_in_the_permutahedron_at_every_scale(NonEmptyArray<float> raw, int exponent, bool kl)
    {
        float[] x = Scaled(raw.Get, exponent);
        var y = new float[x.Length];
        new SoftRank(x.Length, 0.5, kl ? SoftRegularization.KL : SoftRegularization.L2).Forward(x, y);
        AssertInPermutahedron(y, $"ranks of [{string.Join(", ", x)}]");
        return true.ToProperty();
    }

    [Property(MaxTest = 150)]
    public Property Soft_sorts_keep_order_and_sum_at_every_scale(NonEmptyArray<float> raw, int exponent)
    {
        float[] x = Scaled(raw.Get, exponent);
        var y = new float[x.Length];
        new SoftSort(x.Length, 0.5).Forward(x, y);
        double scale = Math.Max(1, x.Max(v => Math.Abs((double)v)));
        bool sorted = Enumerable.Range(0, x.Length - 1).All(k => y[k] <= y[k + 1]);
        bool sum = Math.Abs(x.Sum(v => (double)v) - y.Sum(v => (double)v)) <= 1e-5 * x.Length * scale;
        return (sorted && sum && y.All(float.IsFinite)).ToProperty();
    }

    [Property(MaxTest = 100)]
    public Property Perturbed_ranks_lie_in_the_permutahedron_at_every_scale(NonEmptyArray<float> raw, int exponent)
    {
        float[] x = Scaled(raw.Get, exponent);
        var y = new float[x.Length];
        new PerturbedOptimizer(new RankingOracle(x.Length), new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = 5 }).Forward(x, y);
        AssertInPermutahedron(y, "perturbed ranks");
        return true.ToProperty();
    }
}
