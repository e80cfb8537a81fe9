using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Perturbed.TorchSharp.Tests;

public class TorchPerturbedOptimizerTests
{
    [Fact]
    public void An_oracle_with_a_device_kernel_gives_that_kernel_and_one_without_is_refused_by_name()
    {
        var options = new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = 16, Seed = 3 };
        var viaOracle = new TorchPerturbedOptimizer(new TopKOracle(6, 2), options);
        var viaKernel = new TorchPerturbedOptimizer(DeviceKernelKind.TopK, 6, options, k: 2);
        Assert.Equal((DeviceKernelKind.TopK, 2, 6), (viaOracle.Head, viaOracle.K, viaOracle.Dimension));
        float[] theta = [0.3f, -1, 2, 0.5f, 0.1f, -0.2f, 1, 1, 0, -3, 2, 0.4f];
        float[] a = new float[12], b = new float[12];
        viaOracle.Forward(theta, a, draw: 4);
        viaKernel.Forward(theta, b, draw: 4);
        Assert.Equal(b, a);
        Assert.Equal(DeviceKernelKind.Matching, new TorchPerturbedOptimizer(new MatchingOracle(3), options).Head);
        var e = Assert.Throws<ArgumentException>(() => new TorchPerturbedOptimizer(new KnapsackOracle([1, 2, 3], 3), options));
        Assert.Equal("oracle", e.ParamName);
        Assert.Contains("no device kernel", e.Message);
    }

    private static PerturbedOptimizerOptions Options(double eps, int m, NoiseDistribution? noise = null, int seed = 1) =>
        new() { Epsilon = eps, Samples = m, Noise = noise ?? NoiseDistribution.Normal, Seed = seed };

    [Fact]
    public void Libtorch_loads_on_this_machine_through_the_projects_fix_when_needed()
    {
        LibTorchRuntime.EnsureLoaded();
        bool newStdCxx = File.ReadAllText("/proc/self/maps").Split('\n').Any(l => l.Contains("libstdc++"))
            && File.Exists("/usr/lib/x86_64-linux-gnu/libstdc++.so.6")
            && System.Text.Encoding.ASCII.GetString(File.ReadAllBytes("/usr/lib/x86_64-linux-gnu/libstdc++.so.6")).Contains("GLIBCXX_3.4.32");
        if (OperatingSystem.IsLinux() && File.Exists("/usr/lib/x86_64-linux-gnu/libstdc++.so.6"))
        {
            Assert.Equal(!newStdCxx, LibTorchRuntime.ShimLoaded);
        }
        Assert.Equal(6f, tensor(new float[] { 1, 2, 3 }).sum().item<float>());
    }

    [Fact]
    public void Gumbel_argmax_on_the_device_is_softmax_and_its_max_is_logsumexp_plus_gamma()
    {
        const int d = 5, m = 40_000;
        const double eps = 0.8;
        float[] theta = [0.3f, -1.2f, 1.0f, 0.9f, -0.1f];
        var optimizer = new TorchPerturbedOptimizer(DeviceKernelKind.Argmax, d, Options(eps, m, NoiseDistribution.Gumbel), TestDevice.Current);
        (Tensor y, Tensor f) = optimizer.Forward(tensor(theta, [1, d]));
        float[] yHat = y.cpu().data<float>().ToArray();
        double max = theta.Max(v => v / eps), lse = max + Math.Log(theta.Sum(v => Math.Exp(v / eps - max)));
        for (int i = 0; i < d; i++)
        {
            double p = Math.Exp(theta[i] / eps - lse), se = Math.Sqrt(p * (1 - p) / m);
            Assert.InRange(yHat[i], p - 5 * se - 1e-6, p + 5 * se + 1e-6);
        }
        double expected = eps * (lse + GumbelNoise.EulerGamma), seF = eps * Math.PI / Math.Sqrt(6 * m);
        Assert.InRange(f.item<float>(), expected - 5 * seF, expected + 5 * seF);
    }

    [Theory]
    [InlineData("Ranking")]
    [InlineData("TopK")]
    public void Device_and_core_agree_within_monte_carlo_error(string head)
    {
        DeviceKernelKind kind = Enum.Parse<DeviceKernelKind>(head);
        const int d = 8, batch = 4, m = 20_000;
        var rng = new System.Random(3);
        float[] theta = Enumerable.Range(0, batch * d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        Oracle oracle = kind == DeviceKernelKind.Ranking ? new RankingOracle(d) : new TopKOracle(d, 3);
        var core = new PerturbedOptimizer(oracle, Options(0.5, m));
        var device = new TorchPerturbedOptimizer(kind, d, Options(0.5, m), TestDevice.Current, k: 3);
        var a = new float[batch * d];
        var b = new float[batch * d];
        core.Forward(theta, a);
        device.Forward(theta, b);
        // Entries of one sample lie in [1, d] (ranks) or [0, 1]: variance ≤ range²/4, so each mean has s.e. ≤ range/(2√M).
        double range = kind == DeviceKernelKind.Ranking ? d - 1 : 1;
        double tolerance = 5 * Math.Sqrt(2) * range / (2 * Math.Sqrt(m));
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= tolerance, $"entry {i}: core {a[i]}, device {b[i]}");
    }

    [Fact]
    public void Device_vjp_matches_the_softmax_jacobian_under_gumbel_noise()
    {
        const int d = 4, m = 80_000;
        const double eps = 0.7;
        float[] theta = [0.2f, -0.4f, 0.9f, 0.1f];
        float[] g = [1f, -2f, 0.5f, 0.3f];
        var optimizer = new TorchPerturbedOptimizer(DeviceKernelKind.Argmax, d, Options(eps, m, NoiseDistribution.Gumbel), TestDevice.Current);
        var y = new float[d];
        var vjp = new float[d];
        optimizer.ForwardVjp(theta, g, y, vjp);
        double max = theta.Max(v => v / eps), z = theta.Sum(v => Math.Exp(v / eps - max));
        double[] p = theta.Select(v => Math.Exp(v / eps - max) / z).ToArray();
        double pg = Enumerable.Range(0, d).Sum(i => p[i] * g[i]);
        double se = 2.0 / eps / Math.Sqrt(m);   // second moment of a term ≤ ‖g‖∞²·E[∇ν²]/ε², E[∇ν²] = 1
        for (int i = 0; i < d; i++)
        {
            double exact = p[i] * (g[i] - pg) / eps;
            Assert.InRange(vjp[i], exact - 5 * se, exact + 5 * se);
        }
    }

    [Fact]
    public void Same_seed_and_draw_give_identical_results_and_another_draw_differs()
    {
        var rng = new System.Random(4);
        float[] theta = Enumerable.Range(0, 3 * 6).Select(_ => (float)rng.NextDouble()).ToArray();
        var optimizer = new TorchPerturbedOptimizer(DeviceKernelKind.Ranking, 6, Options(0.3, 50), TestDevice.Current);
        var a = new float[18];
        var b = new float[18];
        var c = new float[18];
        optimizer.Forward(theta, a, draw: 7);
        optimizer.Forward(theta, b, draw: 7);
        optimizer.Forward(theta, c, draw: 8);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(Enumerable.Range(0, 3), r => Assert.Equal(21f, a.Skip(r * 6).Take(6).Sum(), 3));   // ranks sum to d(d+1)/2
    }

    [Theory]
    [InlineData("Ranking", false)]
    [InlineData("Argmax", true)]
    [InlineData("TopK", false)]
    public void Chunking_the_samples_changes_memory_not_results(string head, bool gumbel)
    {
        DeviceKernelKind kind = Enum.Parse<DeviceKernelKind>(head);
        const int d = 7, batch = 5, m = 10;
        var rng = new System.Random(6);
        float[] theta = Enumerable.Range(0, batch * d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] g = Enumerable.Range(0, batch * d).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        (float[] Y, float[] F, float[] Vjp) Run(int chunk)
        {
            var optimizer = new TorchPerturbedOptimizer(kind, d, Options(0.4, m, gumbel ? NoiseDistribution.Gumbel : null), TestDevice.Current, k: 2) { SamplesPerChunk = chunk };
            (Tensor y, Tensor f) = optimizer.Forward(tensor(theta, [batch, d]), draw: 3);
            var yv = new float[batch * d];
            var vjp = new float[batch * d];
            optimizer.ForwardVjp(theta, g, yv, vjp, draw: 3);
            Assert.Equal(y.cpu().data<float>().ToArray(), yv);   // Forward and ForwardVjp use the same samples
            return (yv, f.cpu().data<float>().ToArray(), vjp);
        }
        var whole = Run(0);   // automatic: one chunk at this size
        foreach (int chunk in new[] { 1, 3, m, 4 * m })
        {
            var chunked = Run(chunk);
            for (int i = 0; i < whole.Y.Length; i++)
            {
                Assert.Equal(whole.Y[i], chunked.Y[i], 5);
                Assert.Equal(whole.Vjp[i], chunked.Vjp[i], 4);
            }
            for (int r = 0; r < batch; r++) Assert.Equal(whole.F[r], chunked.F[r], 5);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new TorchPerturbedOptimizer(kind, d, Options(0.4, m), TestDevice.Current, k: 2) { SamplesPerChunk = -1 });
    }

    [Fact]
    public void Device_selection_and_bad_input_errors()
    {
        Assert.Equal(DeviceType.CPU, TorchDevice.Select(null, fallbackToCpu: false).type);
        if (!cuda.is_available())
        {
            Assert.Equal(DeviceType.CPU, TorchDevice.Select(0, fallbackToCpu: true).type);
            Assert.Contains("FallbackToCpu", Assert.Throws<InvalidOperationException>(() => TorchDevice.Select(0, fallbackToCpu: false)).Message);
        }
        else
        {
            Assert.Equal(DeviceType.CUDA, TorchDevice.Select(0, fallbackToCpu: false).type);
            int missing = cuda.device_count();   // one past the last device
            Assert.Equal(DeviceType.CPU, TorchDevice.Select(missing, fallbackToCpu: true).type);
            Assert.Contains($"only {missing} device(s)", Assert.Throws<InvalidOperationException>(() => TorchDevice.Select(missing, fallbackToCpu: false)).Message);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchDevice.Select(-1, true));
        var optimizer = new TorchPerturbedOptimizer(DeviceKernelKind.Argmax, 3, Options(1, 4), TestDevice.Current);
        Assert.Throws<ArgumentException>(() => optimizer.Forward(zeros(2, 4)));
        Assert.Contains("batch ≥ 1", Assert.Throws<ArgumentException>(() => optimizer.Forward(zeros(0, 3))).Message);
        Assert.Contains("'cotangent'", Assert.Throws<ArgumentException>(() => optimizer.ForwardVjp(zeros(2, 3), zeros(2, 4))).Message);
        Assert.Throws<ArgumentException>(() => optimizer.Forward(tensor(new float[] { 1, float.NaN, 0 }, [1, 3])));
        Assert.Throws<ArgumentException>(() => optimizer.Forward(new float[4], new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TorchPerturbedOptimizer(DeviceKernelKind.TopK, 3, Options(1, 4), k: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TorchPerturbedOptimizer(DeviceKernelKind.Argmax, 3, Options(0, 4)));
        Assert.Throws<ArgumentException>(() => new TorchPerturbedOptimizer(DeviceKernelKind.Argmax, 3, new PerturbedOptimizerOptions { Perturbation = PerturbationKind.Multiplicative }));
    }
}

public class TorchMatchingHeadTests
{
    [Fact]
    public void Matching_head_agrees_with_the_core_within_monte_carlo_error()
    {
        const int n = 3, m = 20_000;
        var rng = new System.Random(5);
        float[] theta = Enumerable.Range(0, 2 * n * n).Select(_ => (float)rng.NextDouble()).ToArray();
        var options = new PerturbedOptimizerOptions { Epsilon = 0.3, Samples = m, Seed = 1 };
        var core = new PerturbedOptimizer(new Oracles.MatchingOracle(n), options);
        var device = new TorchPerturbedOptimizer(DeviceKernelKind.Matching, n * n, options, TestDevice.Current);
        var a = new float[theta.Length];
        var b = new float[theta.Length];
        core.Forward(theta, a);
        device.Forward(theta, b);
        double tolerance = 5 * Math.Sqrt(2) * 0.5 / Math.Sqrt(m);   // 0/1 entries: variance ≤ 1/4
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= tolerance, $"entry {i}: core {a[i]}, device {b[i]}");
        for (int r = 0; r < 2; r++) Assert.Equal(n, b.Skip(r * n * n).Take(n * n).Sum(), 3);   // doubly stochastic: total n
        Assert.Throws<ArgumentException>(() => new TorchPerturbedOptimizer(DeviceKernelKind.Matching, 8, options));
    }
}

public class TorchThreadCountTests
{
    [Fact]
    public void Cpu_results_do_not_depend_on_the_number_of_torch_threads()
    {
        if (TestDevice.IsCuda) return;   // a CPU property
        const int d = 300, batch = 64;
        var rng = new System.Random(8);
        float[] theta = Enumerable.Range(0, batch * d).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] g = Enumerable.Range(0, batch * d).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        float[] Run(DeviceKernelKind kind)
        {
            var optimizer = new TorchPerturbedOptimizer(kind, d, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = 40, Seed = 3 }, k: 5);
            var y = new float[batch * d];
            var vjp = new float[batch * d];
            optimizer.ForwardVjp(theta, g, y, vjp);
            (Tensor _, Tensor f) = optimizer.Forward(tensor(theta, [batch, d]));
            return [.. y, .. vjp, .. f.data<float>().ToArray()];
        }
        foreach (DeviceKernelKind kind in new[] { DeviceKernelKind.Argmax, DeviceKernelKind.TopK, DeviceKernelKind.Ranking })
        {
            float[] one = TestDevice.WithTorchThreads(1, () => Run(kind));
            Assert.Equal(one, TestDevice.WithTorchThreads(Math.Max(4, Environment.ProcessorCount), () => Run(kind)));
        }
    }

    [Fact]
    public void Bad_values_on_the_device_are_named_by_row_and_column_and_training_divergence_is_reported()
    {
        var optimizer = new TorchPerturbedOptimizer(DeviceKernelKind.Ranking, 3, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = 4 }, TestDevice.Current);
        var theta = new float[6];
        theta[4] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => optimizer.Forward(theta, new float[6]));
        Assert.Equal("theta", e.ParamName);
        Assert.Contains("row 1, column 1", e.Message);
        float[] g = [0, 0, 0, 0, 0, float.PositiveInfinity];
        Assert.Contains("row 1, column 2", Assert.Throws<ArgumentException>(() => optimizer.ForwardVjp(new float[6], g, new float[6], new float[6])).Message);
        float[] x = [1e30f, -1e30f, 2e30f, 1e30f, -3e30f, 5e29f];
        Assert.Contains("diverged at epoch", Assert.Throws<Training.TrainingDivergedException>(() => new TorchTrainingBackend(TestDevice.Current).Train(
            new Oracles.ArgmaxOracle(2), x, [1, 0, 0, 1, 1, 0], 2,
            new Training.StructuredTrainerOptions { Optimizer = Training.GradientOptimizerKind.Sgd, LearningRate = 1, Loss = Losses.StructuredLossKind.SquaredScores, NumberOfIterations = 5 },
            cancellationToken: TestContext.Current.CancellationToken)).Message);
    }
}
