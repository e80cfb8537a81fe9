using Microsoft.ML.Perturbed.Numerics;
using Microsoft.ML.Perturbed.Sorting;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Tests.Sorting;

/// <summary>SUQUAN (supervised quantile normalization): its pieces against identities, and the fit on data drawn from a true (w, f).</summary>
public class SupervisedQuantileNormalizationTests(ITestOutputHelper output)
{
    /// <summary>Rows of n slots whose ranks carry the class: y ~ Bernoulli(σ(3(⟨w*, Ψ_f*(x)⟩ − median))), x iid normal with ties.</summary>
    internal static (float[] X, int[] Y, double[] TrueF) Planted(int rows, int n, int seed, Func<int, int, double> trueF)
    {
        var rng = new System.Random(seed);
        double[] f = Enumerable.Range(0, n).Select(k => trueF(k, n)).ToArray();
        double[] w = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var x = new float[rows * n];
        // Normal values rounded to 0.1: about one row in ten has ties, which share the mean of their targets.
        for (int i = 0; i < x.Length; i++) x[i] = MathF.Round((float)Normal(rng), 1);
        RankRuns runs = RankRuns.From(x, n, 1);
        var psi = new double[n];
        var score = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            runs.Normalize(r, f, psi);
            score[r] = SpanMath.Dot(w, psi);
        }
        double median = score.Order().ElementAt(rows / 2), spread = Math.Sqrt(score.Select(s => (s - median) * (s - median)).Average());
        var y = new int[rows];
        for (int r = 0; r < rows; r++) y[r] = rng.NextDouble() < 1 / (1 + Math.Exp(-4 * (score[r] - median) / spread)) ? 1 : 0;
        return (x, y, f);
    }

    private static double Normal(System.Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static double Correlation(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double ma = a.Average(), mb = b.Average(), ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Count; i++)
        {
            ab += (a[i] - ma) * (b[i] - mb);
            aa += (a[i] - ma) * (a[i] - ma);
            bb += (b[i] - mb) * (b[i] - mb);
        }
        return ab / Math.Sqrt(aa * bb);
    }

    [Fact]
    public void Normalize_matches_hard_quantile_normalization_ties_included_and_pooling_is_its_adjoint()
    {
        var rng = new System.Random(3);
        const int n = 9;
        float[] x = [2, 1, 2, 0, 5, 5, 5, -1, 0.5f, /* all tied */ 3, 3, 3, 3, 3, 3, 3, 3, 3, /* −0 and +0 tie */ -0f, 0, 1, 2, 3, 4, 5, 6, 7];
        RankRuns runs = RankRuns.From(x, n, -1);
        double[] f = Enumerable.Range(0, n).Select(k => Math.Exp(0.4 * k) + rng.NextDouble()).Order().ToArray();
        var psi = new double[n];
        var expected = new double[n];
        for (int r = 0; r < 3; r++)
        {
            runs.Normalize(r, f, psi);
            new SoftQuantileNormalization(f).Forward(x.AsSpan(r * n, n).ToArray().Select(v => (double)v).ToArray(), expected);
            for (int i = 0; i < n; i++) Assert.Equal(expected[i], psi[i], 12);
            // ⟨w, Ψ_f(x)⟩ = ⟨B Π_σ w, f⟩ for any w.
            double[] w = Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
            var pooled = new double[n];
            runs.AddPooled(r, w, 1, pooled);
            Assert.Equal(SpanMath.Dot(w, psi), SpanMath.Dot(pooled, f), 12);
        }
        // A row of equal values gets the mean of f everywhere.
        runs.Normalize(1, f, psi);
        foreach (double v in psi) Assert.Equal(f.Average(), v, 12);
    }

    [Fact]
    public void Projection_lands_in_the_constraint_set_and_satisfies_the_projection_inequality()
    {
        var rng = new System.Random(5);
        const int n = 12;
        for (int trial = 0; trial < 50; trial++)
        {
            double scale = trial % 2 == 0 ? 0.3 : 10;   // inside and outside the ball
            double[] v = Enumerable.Range(0, n).Select(_ => scale * (rng.NextDouble() - 0.5) + 0.1 * trial).ToArray();
            double[] p = (double[])v.Clone();
            SupervisedQuantileNormalization.Project(p);
            for (int k = 1; k < n; k++) Assert.True(p[k] >= p[k - 1], $"trial {trial}: not non-decreasing at {k}");
            Assert.Equal(0, p.Sum(), 10);
            Assert.True(SpanMath.Dot(p, p) <= n * (1 + 1e-12));
            // ⟨v − P(v), u − P(v)⟩ ≤ 0 for every u in C (random feasible points).
            for (int u = 0; u < 20; u++)
            {
                double[] feasible = SupervisedQuantileNormalization.Standardized(Enumerable.Range(0, n).Select(_ => rng.NextDouble()).Order().ToArray());
                double shrink = rng.NextDouble();
                double inner = 0;
                for (int k = 0; k < n; k++) inner += (v[k] - p[k]) * (shrink * feasible[k] - p[k]);
                Assert.True(inner <= 1e-9, $"trial {trial}: ⟨v − P(v), u − P(v)⟩ = {inner}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Objective_gradients_in_weights_and_in_quantiles_match_finite_differences(int outputs)
    {
        const int n = 7, rows = 150;
        var rng = new System.Random(11);
        float[] x = Enumerable.Range(0, rows * n).Select(_ => (float)Math.Round(rng.NextDouble() * 4, 1)).ToArray();
        int[] y = Enumerable.Range(0, rows).Select(_ => rng.Next(outputs == 1 ? 2 : outputs)).ToArray();
        var objective = new SupervisedQuantileObjective(RankRuns.From(x, n, -1), y, outputs, 0.3, -1);
        double[] w = Enumerable.Range(0, outputs * n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        double[] b = Enumerable.Range(0, outputs).Select(_ => rng.NextDouble() - 0.5).ToArray();
        double[] f = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 3).Order().ToArray();
        const double h = 1e-6;
        var gw = new double[outputs * n + outputs];
        objective.Evaluate(w, b, f, SupervisedQuantileObjective.Gradient.Weights, gw);
        var gf = new double[n + outputs];
        double value = objective.Evaluate(w, b, f, SupervisedQuantileObjective.Gradient.Quantiles, gf);
        Assert.Equal(value, objective.Evaluate(w, b, f, SupervisedQuantileObjective.Gradient.None, null));
        double Central(double[] v, int i, Func<double> j)
        {
            double keep = v[i];
            v[i] = keep + h;
            double plus = j();
            v[i] = keep - h;
            double minus = j();
            v[i] = keep;
            return (plus - minus) / (2 * h);
        }
        double J() => objective.Evaluate(w, b, f, SupervisedQuantileObjective.Gradient.None, null);
        for (int i = 0; i < w.Length; i++) Assert.Equal(Central(w, i, J), gw[i], 6);
        for (int c = 0; c < outputs; c++)
        {
            Assert.Equal(Central(b, c, J), gw[w.Length + c], 6);
            Assert.Equal(Central(b, c, J), gf[n + c], 6);
        }
        for (int k = 0; k < n; k++) Assert.Equal(Central(f, k, J), gf[k], 6);
    }

    [Fact]
    public void Lbfgs_reaches_the_minimum_of_a_convex_quadratic_without_raising_the_value()
    {
        double[] a = [1, 10, 100, 0.5], target = [1, -2, 3, 4];
        var values = new List<double>();
        double Quadratic(double[] x, double[] g)
        {
            double v = 0;
            for (int i = 0; i < x.Length; i++)
            {
                g[i] = a[i] * (x[i] - target[i]) + (i > 0 ? 0.5 * (x[i] - x[i - 1]) : 0) - (i + 1 < x.Length ? 0.5 * (x[i + 1] - x[i]) : 0);
                v += 0.5 * a[i] * (x[i] - target[i]) * (x[i] - target[i]) + (i > 0 ? 0.25 * (x[i] - x[i - 1]) * (x[i] - x[i - 1]) : 0);
            }
            values.Add(v);
            return v;
        }
        var x = new double[4];
        Lbfgs.Minimize(Quadratic, x, 200, 1e-12);
        var g = new double[4];
        Quadratic(x, g);
        Assert.True(g.Max(Math.Abs) < 1e-8, $"gradient {string.Join(", ", g)}");
    }

    [Fact]
    public void Suquan_recovers_a_planted_quantile_function_better_than_fixed_targets_and_the_objective_never_rises()
    {
        const int n = 16;
        // A step: only whether a slot is among the top quarter of its row matters; uniform, normal and mean targets are far from it.
        (float[] x, int[] y, double[] trueF) = Planted(3000, n, 1, (k, m) => k >= 3 * m / 4 ? 1 : 0);
        SupervisedQuantileModel model = SupervisedQuantileNormalization.Fit(x, y, n, 1, new SupervisedQuantileOptions { Alternations = 20 });
        double learned = Correlation(model.QuantileFunction, trueF);
        double uniform = Correlation(QuantileTargets.Uniform(n), trueF), normal = Correlation(QuantileTargets.Normal(n), trueF),
            mean = Correlation(QuantileTargets.FromData(x, n), trueF);
        output.WriteLine($"corr(f, f*): SUQUAN {learned:F4}, uniform {uniform:F4}, normal {normal:F4}, training mean {mean:F4}; " +
            $"{model.Alternations} alternations; objective {string.Join(" → ", model.Objective.Select(v => v.ToString("F5")))}");
        output.WriteLine($"f = {string.Join(", ", model.QuantileFunction.Select(v => v.ToString("F3")))}");
        Assert.True(learned > 0.95, $"corr(learned f, f*) = {learned:F4}");
        Assert.True(learned > Math.Max(uniform, Math.Max(normal, mean)) + 0.05);
        for (int i = 1; i < model.Objective.Length; i++)
            Assert.True(model.Objective[i] <= model.Objective[i - 1], $"objective rose at half-step {i}: {model.Objective[i - 1]} → {model.Objective[i]}");
        Assert.True(model.Objective[^1] < model.Objective[0] - 0.01, "learning f lowered the objective");
        for (int k = 1; k < n; k++) Assert.True(model.QuantileFunction[k] >= model.QuantileFunction[k - 1]);
        Assert.Equal(0, model.QuantileFunction.Sum(), 9);
        Assert.Equal(n, SpanMath.Dot(model.QuantileFunction, model.QuantileFunction), 6);
    }

    [Fact]
    public void Multiclass_fit_recovers_the_quantile_function_shared_by_its_classes()
    {
        const int n = 12, rows = 3000, classes = 3;
        var rng = new System.Random(4);
        double[] trueF = Enumerable.Range(0, n).Select(k => k < n / 3 ? -1.0 : 0).ToArray();   // only the bottom third matters
        double[][] w = Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, n).Select(_ => 2 * rng.NextDouble() - 1).ToArray()).ToArray();
        float[] x = Enumerable.Range(0, rows * n).Select(_ => (float)Normal(rng)).ToArray();
        RankRuns runs = RankRuns.From(x, n, 1);
        var psi = new double[n];
        var y = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            runs.Normalize(r, trueF, psi);
            double[] s = w.Select(wc => 3 * SpanMath.Dot(wc, psi) - Math.Log(-Math.Log(rng.NextDouble()))).ToArray();
            y[r] = Array.IndexOf(s, s.Max());
        }
        SupervisedQuantileModel model = SupervisedQuantileNormalization.Fit(x, y, n, classes, new SupervisedQuantileOptions { Alternations = 20 });
        double learned = Correlation(model.QuantileFunction, trueF), mean = Correlation(QuantileTargets.FromData(x, n), trueF);
        output.WriteLine($"corr(f, f*): SUQUAN {learned:F4}, training mean {mean:F4}");
        Assert.True(learned > 0.95 && learned > mean + 0.05, $"corr {learned:F4} (training mean {mean:F4})");
        for (int i = 1; i < model.Objective.Length; i++) Assert.True(model.Objective[i] <= model.Objective[i - 1]);
    }

    [Fact]
    public void Same_bits_on_one_and_on_all_threads()
    {
        (float[] x, int[] y, _) = Planted(1500, 10, 2, (k, m) => Math.Exp(3.0 * k / m));
        SupervisedQuantileModel Fit(int threads) => SupervisedQuantileNormalization.Fit(x, y, 10, 1,
            new SupervisedQuantileOptions { Alternations = 3, MaxDegreeOfParallelism = threads });
        SupervisedQuantileModel one = Fit(1), all = Fit(-1), two = Fit(2);
        foreach (SupervisedQuantileModel other in new[] { all, two })
        {
            Assert.Equal(one.QuantileFunction, other.QuantileFunction);
            Assert.Equal(one.Weights, other.Weights);
            Assert.Equal(one.Bias, other.Bias);
            Assert.Equal(one.Objective, other.Objective);
        }
    }

    [Fact]
    public void Without_alternations_it_is_logistic_regression_on_rows_normalized_to_the_standardized_initial_target()
    {
        (float[] x, int[] y, _) = Planted(800, 8, 6, (k, m) => k);
        double[] uniform = QuantileTargets.Uniform(8);
        SupervisedQuantileModel model = SupervisedQuantileNormalization.Fit(x, y, 8, 1, new SupervisedQuantileOptions { Alternations = 0, InitialTarget = uniform });
        Assert.Single(model.Objective);
        Assert.Equal(SupervisedQuantileNormalization.Standardized(uniform), model.QuantileFunction);
        // The w-step's optimality: the gradient of the regularized logistic loss vanishes at (W, b).
        var objective = new SupervisedQuantileObjective(RankRuns.From(x, 8, 1), y, 1, SupervisedQuantileOptions.DefaultL2Regularization, 1);
        var gradient = new double[9];
        objective.Evaluate(model.Weights, model.Bias, model.QuantileFunction, SupervisedQuantileObjective.Gradient.Weights, gradient);
        Assert.True(gradient.Max(Math.Abs) < 1e-5, $"gradient {gradient.Max(Math.Abs)}");
        // Score agrees with the objective's scores.
        var s = new double[1];
        model.Score(x.AsSpan(0, 8), s);
        var psi = new double[8];
        RankRuns.From(x.AsSpan(0, 8), 8, 1).Normalize(0, model.QuantileFunction, psi);
        Assert.Equal(SpanMath.Dot(model.Weights, psi) + model.Bias[0], s[0], 12);
    }

    [Fact]
    public void Bad_input_is_refused_naming_the_argument_row_and_column()
    {
        float[] x = [1, 2, 3, 4, 5, 6];
        int[] y = [0, 1, 0];
        var nan = (float[])x.Clone();
        nan[4] = float.NaN;
        ArgumentException e = Assert.Throws<ArgumentException>(() => SupervisedQuantileNormalization.Fit(nan, y, 2, 1));
        Assert.Equal("rows", e.ParamName);
        Assert.Contains("row 2, column 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => SupervisedQuantileNormalization.Fit(x, [0, 2, 1], 2, 1));
        Assert.Equal("labels", e.ParamName);
        Assert.Contains("row 1", e.Message);
        e = Assert.Throws<ArgumentException>(() => SupervisedQuantileNormalization.Fit(x, [1, 1, 1], 2, 1));
        Assert.Contains("at least two classes", e.Message);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => SupervisedQuantileNormalization.Fit(x, [0, 1], 2, 1)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentException>(() => SupervisedQuantileNormalization.Fit(x.AsSpan(0, 5), y, 2, 1)).ParamName);
        Assert.Equal("length", Assert.Throws<ArgumentOutOfRangeException>(() => SupervisedQuantileNormalization.Fit(x, [0, 1, 0, 1, 0, 1], 1, 1)).ParamName);
        Assert.Equal("InitialTarget", Assert.Throws<ArgumentException>(() => SupervisedQuantileNormalization.Fit(x, y, 2, 1, new() { InitialTarget = [2, 1] })).ParamName);
        Assert.Equal("InitialTarget", Assert.Throws<ArgumentException>(() => SupervisedQuantileNormalization.Fit(x, y, 2, 1, new() { InitialTarget = [1, 1] })).ParamName);
        Assert.Equal("InitialTarget", Assert.Throws<ArgumentException>(() => SupervisedQuantileNormalization.Fit(x, y, 2, 1, new() { InitialTarget = [1, 2, 3] })).ParamName);
        Assert.Equal("Alternations", Assert.Throws<ArgumentOutOfRangeException>(() => SupervisedQuantileNormalization.Fit(x, y, 2, 1, new() { Alternations = -1 })).ParamName);
        Assert.Equal("L2Regularization", Assert.Throws<ArgumentOutOfRangeException>(() => SupervisedQuantileNormalization.Fit(x, y, 2, 1, new() { L2Regularization = double.NaN })).ParamName);
        Assert.Equal("MaxDegreeOfParallelism", Assert.Throws<ArgumentOutOfRangeException>(() => SupervisedQuantileNormalization.Fit(x, y, 2, 1, new() { MaxDegreeOfParallelism = 0 })).ParamName);
    }
}
