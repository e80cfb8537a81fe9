using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Tests.Perturbation;

public class PerturbedOptimizerTests
{
    private static PerturbedOptimizer Make(Oracle oracle, double epsilon, int samples, NoiseDistribution? noise = null,
        VarianceReduction vr = VarianceReduction.None, PerturbationKind kind = PerturbationKind.Additive, int seed = 1, int threads = -1)
        => new(oracle, new PerturbedOptimizerOptions
        {
            Epsilon = epsilon,
            Samples = samples,
            Noise = noise ?? NoiseDistribution.Normal,
            VarianceReduction = vr,
            Perturbation = kind,
            Seed = seed,
            MaxDegreeOfParallelism = threads,
        });

    /// <summary>The identity "oracle" y*(θ) = θ: not a polytope, but the estimator applied to it must give J = I.</summary>
    private static Oracle Identity(int d) => Oracle.Create(d, d, (theta, y) => theta.CopyTo(y), "Identity");

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void Gumbel_argmax_is_softmax_and_its_perturbed_max_is_logsumexp_plus_gamma(double eps)
    {
        const int d = 5, m = 20_000;
        float[] theta = [0.3f, -1.2f, 1.0f, 0.9f, -0.1f, /* row 2 */ 2f, 2f, -3f, 0f, 0.5f];
        var opt = Make(new ArgmaxOracle(d), eps, m, NoiseDistribution.Gumbel);
        var y = new float[theta.Length];
        var f = new float[2];
        opt.Forward(theta, y, f);
        for (int r = 0; r < 2; r++)
        {
            ReadOnlySpan<float> row = theta.AsSpan(r * d, d);
            double[] p = TestMath.Softmax(row, eps);
            for (int i = 0; i < d; i++)
            {
                // Each entry is a mean of M Bernoulli(pᵢ): standard error √(pᵢ(1−pᵢ)/M).
                Assert.InRange(y[r * d + i], p[i] - 5 * Math.Sqrt(p[i] * (1 - p[i]) / m) - 1e-6, p[i] + 5 * Math.Sqrt(p[i] * (1 - p[i]) / m) + 1e-6);
            }
            // max_i(θᵢ + εGᵢ) is Gumbel with scale ε: mean ε(lse(θ/ε) + γ), standard deviation επ/√6.
            double expected = eps * (TestMath.LogSumExp(row, eps) + GumbelNoise.EulerGamma);
            double se = eps * Math.PI / Math.Sqrt(6) / Math.Sqrt(m);
            Assert.InRange(f[r], expected - 5 * se, expected + 5 * se);
        }
    }

    [Fact]
    public void Gumbel_argmax_vjp_matches_the_softmax_jacobian()
    {
        const int d = 4, m = 40_000;
        const double eps = 0.7;
        float[] theta = [0.2f, -0.4f, 0.9f, 0.1f];
        float[] g = [1f, -2f, 0.5f, 0.3f];
        var opt = Make(new ArgmaxOracle(d), eps, m, NoiseDistribution.Gumbel);
        var y = new float[d];
        var vjp = new float[d];
        opt.ForwardVjp(theta, g, y, vjp);
        double[] p = TestMath.Softmax(theta, eps);
        double pg = Enumerable.Range(0, d).Sum(i => p[i] * g[i]);
        // J = (diag p − ppᵀ)/ε is symmetric, so Jᵀg = p ⊙ (g − ⟨p, g⟩)/ε. Each sample term ⟨yₘ, g⟩∇ν(Zₘ)/ε has
        // second moment ≤ ‖g‖∞²·E[∇ν²]/ε² = ‖g‖∞²/ε², which bounds the standard error.
        double se = 2.0 / eps / Math.Sqrt(m);
        for (int i = 0; i < d; i++)
        {
            double exact = p[i] * (g[i] - pg) / eps;
            Assert.InRange(vjp[i], exact - 5 * se, exact + 5 * se);
        }
    }

    [Theory]
    [InlineData(VarianceReduction.None)]
    [InlineData(VarianceReduction.ControlVariate)]
    [InlineData(VarianceReduction.LeaveOneOut)]
    public void Perturbed_identity_has_identity_jacobian_without_a_one_over_epsilon_error(VarianceReduction vr)
    {
        const int d = 3, m = 50_000;
        const double eps = 0.5;
        float[] theta = [0.5f, -1f, 2f];
        var opt = Make(Identity(d), eps, m, vr: vr);
        var y = new float[d];
        var column = new float[d];
        for (int j = 0; j < d; j++)
        {
            var t = new float[d];
            t[j] = 1;
            opt.ForwardJvp(theta, t, y, column, draw: (ulong)j);
            for (int i = 0; i < d; i++)
            {
                // Term yᵢZⱼ/ε = (θᵢ/ε)Zⱼ + ZᵢZⱼ: variance θᵢ²/ε² + (2 if i = j else 1); the baselines remove the θᵢ/ε part.
                double variance = (vr == VarianceReduction.None ? theta[i] * theta[i] / (eps * eps) : 0) + (i == j ? 2 : 1);
                double se = Math.Sqrt(variance / m);
                Assert.InRange(column[i], (i == j ? 1 : 0) - 5 * se, (i == j ? 1 : 0) + 5 * se);
            }
            Assert.Equal(theta, y.Select(v => (float)Math.Round(v, 1)));   // ŷ = θ + ε·mean(Z) ≈ θ
        }
    }

    [Fact]
    public void Finite_differences_with_common_random_numbers_of_the_perturbed_identity_are_exactly_the_identity()
    {
        // With the same draw, ŷ(θ) = θ + ε·mean(Zₘ) exactly, so central differences give I up to rounding.
        const int d = 4;
        var opt = Make(Identity(d), 0.3, 16);
        float[] theta = [0.1f, 0.2f, -0.3f, 0.4f];
        const float h = 1e-2f;
        for (int j = 0; j < d; j++)
        {
            float[] plus = (float[])theta.Clone(), minus = (float[])theta.Clone();
            plus[j] += h;
            minus[j] -= h;
            var yp = new float[d];
            var ym = new float[d];
            opt.Forward(plus, yp, draw: 9);
            opt.Forward(minus, ym, draw: 9);
            for (int i = 0; i < d; i++) Assert.Equal(i == j ? 1.0 : 0.0, (yp[i] - ym[i]) / (2 * h), 3);
        }
    }

    /// <summary>
    /// The score-function VJP is exactly the derivative of the likelihood-ratio reweighted estimator
    /// G(θ) = (1/M) Σₘ ⟨yₘ, g⟩ μ(Zₘ(θ))/μ(Zₘ(θ₀)) in which the perturbed inputs uₘ are held fixed and Zₘ(θ) is the noise
    /// that would map θ to uₘ. Central finite differences of G with these common random numbers must agree with the VJP
    /// to finite-difference accuracy, for every noise and perturbation: this checks the score, its sign and the 1/ε.
    /// </summary>
    [Theory]
    [InlineData("Normal", PerturbationKind.Additive, 0.5)]
    [InlineData("Gumbel", PerturbationKind.Additive, 0.8)]
    [InlineData("Normal", PerturbationKind.Multiplicative, 0.3)]
    public void Vjp_equals_finite_differences_of_the_likelihood_ratio_estimator_with_common_random_numbers(string law, PerturbationKind kind, double eps)
    {
        const int d = 5, m = 64;
        NoiseDistribution noise = law == "Normal" ? NoiseDistribution.Normal : NoiseDistribution.Gumbel;
        var inputs = new List<float[]>();
        var recorder = Oracle.Create(d, d, (theta, y) =>
        {
            lock (inputs) inputs.Add(theta.ToArray());
            new ArgmaxOracle(d).Solve(theta, y, 1);
        });
        var opt = Make(recorder, eps, m, noise, kind: kind, threads: 1);
        float[] theta = [1.0f, 0.7f, 1.3f, 0.4f, 0.9f];
        float[] g = [0.3f, -1f, 2f, 0.5f, -0.2f];
        var y = new float[d];
        var vjp = new float[d];
        opt.ForwardVjp(theta, g, y, vjp);
        Assert.Equal(m, inputs.Count);

        double NoiseOf(float u, double th) => kind == PerturbationKind.Additive
            ? (u - th) / eps
            : (Math.Log(u / th) + eps * eps / 2) / eps;   // u = θ·exp(εZ − ε²/2)
        double G(double[] th)
        {
            double total = 0;
            foreach (float[] u in inputs)
            {
                double c = g[ArgmaxOracle.IndexOfMax(u)];
                double logRatio = 0;
                for (int i = 0; i < d; i++)
                {
                    logRatio += noise.NegativeLogDensity(NoiseOf(u[i], theta[i])) - noise.NegativeLogDensity(NoiseOf(u[i], th[i]));
                }
                total += c * Math.Exp(logRatio);
            }
            return total / m;
        }

        const double h = 1e-5;
        for (int j = 0; j < d; j++)
        {
            double[] plus = theta.Select(v => (double)v).ToArray(), minus = theta.Select(v => (double)v).ToArray();
            plus[j] += h;
            minus[j] -= h;
            double fd = (G(plus) - G(minus)) / (2 * h);
            Assert.True(Math.Abs(fd - vjp[j]) <= 1e-3 * (1 + Math.Abs(fd)), $"coordinate {j}: finite differences {fd}, VJP {vjp[j]}");
        }
    }

    public static TheoryData<string, VarianceReduction> AdjointCases()
    {
        var data = new TheoryData<string, VarianceReduction>();
        foreach (string o in new[] { "Argmax", "TopK", "Ranking", "Matching" })
            foreach (VarianceReduction vr in Enum.GetValues<VarianceReduction>())
                data.Add(o, vr);
        return data;
    }

    private static Oracle Head(string name) => name switch
    {
        "Argmax" => new ArgmaxOracle(9),
        "TopK" => new TopKOracle(9, 3),
        "Ranking" => new RankingOracle(9),
        _ => new MatchingOracle(3),
    };

    [Theory]
    [MemberData(nameof(AdjointCases))]
    public void Jvp_and_vjp_are_adjoint_for_the_same_samples(string head, VarianceReduction vr)
    {
        var rng = new System.Random(8);
        var opt = Make(Head(head), 0.4, 25, vr: vr);
        const int batch = 6, d = 9;
        float[] theta = TestMath.RandomVector(rng, batch * d);
        float[] t = TestMath.RandomVector(rng, batch * d);
        float[] g = TestMath.RandomVector(rng, batch * d);
        var y1 = new float[batch * d];
        var y2 = new float[batch * d];
        var jt = new float[batch * d];
        var jg = new float[batch * d];
        opt.ForwardJvp(theta, t, y1, jt, draw: 3);
        opt.ForwardVjp(theta, g, y2, jg, draw: 3);
        Assert.Equal(y1, y2);
        for (int r = 0; r < batch; r++)
        {
            double left = TestMath.Dot(jt.AsSpan(r * d, d), g.AsSpan(r * d, d));
            double right = TestMath.Dot(t.AsSpan(r * d, d), jg.AsSpan(r * d, d));
            Assert.True(Math.Abs(left - right) <= 1e-4 * (1 + Math.Abs(left)), $"row {r}: ⟨Jt, g⟩ = {left}, ⟨t, Jᵀg⟩ = {right}");
        }
    }

    [Theory]
    [InlineData("Argmax", 0.25)]
    [InlineData("Ranking", 3.0)]
    [InlineData("TopK", 0.6)]
    public void Epsilon_scaling_holds_with_the_same_noise(string head, double eps)
    {
        var rng = new System.Random(12);
        const int batch = 8, d = 9;
        float[] theta = TestMath.RandomVector(rng, batch * d, 2);
        float[] scaled = theta.Select(v => (float)(v / eps)).ToArray();
        var yEps = new float[batch * d];
        var yOne = new float[batch * d];
        var fEps = new float[batch];
        var fOne = new float[batch];
        Make(Head(head), eps, 30).Forward(theta, yEps, fEps, draw: 5);
        Make(Head(head), 1.0, 30).Forward(scaled, yOne, fOne, draw: 5);
        // y*_ε(θ) = y*_1(θ/ε) and F_ε(θ) = εF_1(θ/ε): the oracles are scale invariant and the noise is shared.
        for (int i = 0; i < yEps.Length; i++) Assert.Equal(yOne[i], yEps[i], 5);
        for (int r = 0; r < batch; r++) Assert.Equal(eps * fOne[r], fEps[r], 3);
    }

    [Theory]
    [InlineData(VarianceReduction.ControlVariate)]
    [InlineData(VarianceReduction.LeaveOneOut)]
    public void Variance_reduction_lowers_the_vjp_variance_and_keeps_its_mean(VarianceReduction vr)
    {
        const int d = 6, draws = 300, m = 10;
        const double eps = 0.3;
        float[] theta = [0.5f, 0.4f, -0.2f, 0.45f, 0.1f, 0.3f];
        float[] g = [1f, 0.8f, -0.5f, 0.2f, 0.7f, -1f];
        (double[] mean, double variance) Stats(VarianceReduction mode)
        {
            var opt = Make(new RankingOracle(d), eps, m, vr: mode);
            var all = new double[draws][];
            var y = new float[d];
            var vjp = new float[d];
            for (int k = 0; k < draws; k++)
            {
                opt.ForwardVjp(theta, g, y, vjp, draw: (ulong)k);
                all[k] = vjp.Select(v => (double)v).ToArray();
            }
            double[] mu = Enumerable.Range(0, d).Select(i => all.Average(a => a[i])).ToArray();
            double var = Enumerable.Range(0, d).Sum(i => all.Sum(a => (a[i] - mu[i]) * (a[i] - mu[i])) / (draws - 1));
            return (mu, var);
        }
        (double[] plainMean, double plainVar) = Stats(VarianceReduction.None);
        (double[] reducedMean, double reducedVar) = Stats(vr);
        Assert.True(reducedVar < 0.5 * plainVar, $"total variance {reducedVar} with {vr} vs {plainVar} without");
        // Both unbiased: means agree within the standard error of their difference.
        for (int i = 0; i < d; i++)
        {
            double se = Math.Sqrt((plainVar + reducedVar) / draws);
            Assert.InRange(reducedMean[i] - plainMean[i], -5 * se, 5 * se);
        }
    }

    [Fact]
    public void Same_seed_gives_identical_bits_with_one_thread_and_with_all_threads()
    {
        var rng = new System.Random(21);
        const int batch = 97, d = 50;
        float[] theta = TestMath.RandomVector(rng, batch * d);
        float[] g = TestMath.RandomVector(rng, batch * d);
        (float[] y, float[] f, float[] vjp) Run(int threads, int seed)
        {
            var opt = Make(new RankingOracle(d), 0.5, 20, vr: VarianceReduction.LeaveOneOut, seed: seed, threads: threads);
            var y = new float[batch * d];
            var f = new float[batch];
            var vjp = new float[batch * d];
            opt.Forward(theta, y, f, draw: 77);
            opt.ForwardVjp(theta, g, new float[batch * d], vjp, draw: 77);
            return (y, f, vjp);
        }
        var one = Run(1, 4);
        var all = Run(-1, 4);
        var again = Run(-1, 4);
        Assert.Equal(one.y, all.y);
        Assert.Equal(one.f, all.f);
        Assert.Equal(one.vjp, all.vjp);
        Assert.Equal(all.vjp, again.vjp);
        Assert.NotEqual(one.y, Run(1, 5).y);
    }

    [Fact]
    public void A_row_does_not_depend_on_the_rest_of_the_batch()
    {
        var rng = new System.Random(22);
        const int d = 7;
        float[] batch = TestMath.RandomVector(rng, 5 * d);
        var opt = Make(new TopKOracle(d, 2), 1.0, 15);
        var yAll = new float[5 * d];
        opt.Forward(batch, yAll, draw: 2);
        var yFirst = new float[d];
        opt.Forward(batch.AsSpan(0, d), yFirst, draw: 2);
        Assert.Equal(yAll.AsSpan(0, d).ToArray(), yFirst);
    }

    [Fact]
    public void Cotangent_function_gives_the_same_vjp_as_an_explicit_cotangent()
    {
        var rng = new System.Random(23);
        const int batch = 10, d = 6;
        float[] theta = TestMath.RandomVector(rng, batch * d);
        float[] target = TestMath.RandomVector(rng, batch * d);
        foreach (VarianceReduction vr in Enum.GetValues<VarianceReduction>())
        {
            var opt = Make(new RankingOracle(d), 0.7, 12, vr: vr);
            // Squared loss ½‖ŷ − y‖²: g = ŷ − y, known only after the forward pass.
            var y = new float[batch * d];
            var vjpFn = new float[batch * d];
            opt.ForwardVjp(theta, (row, yHat, gRow) =>
            {
                for (int i = 0; i < d; i++) gRow[i] = yHat[i] - target[row * d + i];
            }, y, vjpFn, draw: 4);
            float[] g = y.Select((v, i) => v - target[i]).ToArray();
            var vjp = new float[batch * d];
            opt.ForwardVjp(theta, g, new float[batch * d], vjp, draw: 4);
            for (int i = 0; i < vjp.Length; i++) Assert.Equal(vjp[i], vjpFn[i], 4);
        }
    }

    [Fact]
    public void Multiplicative_perturbation_keeps_the_mean_because_of_the_epsilon_squared_half_correction()
    {
        const int m = 40_000;
        const double eps = 0.5;
        float[] theta = [1f, 2f, 5f];
        var y = new float[3];
        Make(Identity(3), eps, m, kind: PerturbationKind.Multiplicative).Forward(theta, y);
        // E[θ·exp(εZ − ε²/2)] = θ; without the correction it would be θ·e^{ε²/2} ≈ 1.13θ. s.d. θ√(e^{ε²} − 1).
        for (int i = 0; i < 3; i++)
        {
            double se = theta[i] * Math.Sqrt(Math.Exp(eps * eps) - 1) / Math.Sqrt(m);
            Assert.InRange(y[i], theta[i] - 5 * se, theta[i] + 5 * se);
        }
    }

    [Fact]
    public void Bad_options_and_inputs_throw_argument_exceptions_that_say_what_was_expected()
    {
        var argmax = new ArgmaxOracle(3);
        Assert.Contains("Epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => Make(argmax, 0, 10)).Message);
        Assert.Contains("Epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => Make(argmax, -1, 10)).Message);
        Assert.Contains("Epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => Make(argmax, double.NaN, 10)).Message);
        Assert.Contains("Epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => Make(argmax, double.PositiveInfinity, 10)).Message);
        Assert.Contains("Samples", Assert.Throws<ArgumentOutOfRangeException>(() => Make(argmax, 1, 0)).Message);
        Assert.Contains("Leave-one-out", Assert.Throws<ArgumentOutOfRangeException>(() => Make(argmax, 1, 1, vr: VarianceReduction.LeaveOneOut)).Message);
        Assert.Contains("normal noise", Assert.Throws<ArgumentException>(() =>
            Make(argmax, 1, 1, NoiseDistribution.Gumbel, kind: PerturbationKind.Multiplicative)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Make(argmax, 1, 1, threads: 0));

        var opt = Make(argmax, 1, 4);
        var e1 = Assert.Throws<ArgumentException>(() => opt.Forward([1, 2, float.NaN, 4, 5, 6], new float[6]));
        Assert.Equal("theta", e1.ParamName);
        Assert.Contains("row 0, column 2", e1.Message);
        Assert.Equal("theta", Assert.Throws<ArgumentException>(() => opt.Forward(new float[4], new float[4])).ParamName);
        Assert.Equal("solution", Assert.Throws<ArgumentException>(() => opt.Forward(new float[3], new float[4])).ParamName);
        Assert.Equal("perturbedMax", Assert.Throws<ArgumentException>(() => opt.Forward(new float[6], new float[6], new float[1])).ParamName);
        Assert.Equal("tangent", Assert.Throws<ArgumentException>(() => opt.ForwardJvp(new float[3], new float[2], new float[3], new float[3])).ParamName);
        Assert.Equal("cotangent", Assert.Throws<ArgumentException>(() => opt.ForwardVjp(new float[3], [0, float.NegativeInfinity, 0], new float[3], new float[3])).ParamName);
        Assert.Equal("vjp", Assert.Throws<ArgumentException>(() => opt.ForwardVjp(new float[3], new float[3], new float[3], new float[2])).ParamName);

        var mult = Make(argmax, 0.1, 4, kind: PerturbationKind.Multiplicative);
        Assert.Contains("positive", Assert.Throws<ArgumentException>(() => mult.Forward([1, 0, 2], new float[3])).Message);
        // ε beyond single precision's reach is refused at construction (the range is documented); inside it, overflowing
        // perturbed scores are refused per row.
        Assert.Contains("must be in", Assert.Throws<ArgumentOutOfRangeException>(() => Make(argmax, 1e39, 4)).Message);
        var huge = Make(argmax, 1, 4, kind: PerturbationKind.Multiplicative);
        Assert.Contains("overflow", Assert.Throws<ArgumentException>(() => huge.Forward([3.3e38f, 3.3e38f, 3.3e38f], new float[3])).Message);
    }
}
