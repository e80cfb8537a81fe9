using BenchmarkDotNet.Attributes;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// Thread scaling and derivative cost on the reference shape (Ranking, d 100, batch 256, M 100): one thread is the
/// baseline; "all" uses every core. Forward+VJP shows the cost of the Jacobian estimate on top of the forward pass.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class ScalingBenchmarks
{
    private const int D = 100, Batch = 256, Samples = 100;
    private PerturbedOptimizer _optimizer = null!;
    private float[] _theta = null!, _solution = null!, _cotangent = null!, _vjp = null!;

    [Params(1, -1)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _optimizer = new PerturbedOptimizer(Heads.Create("Ranking", D),
            new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = Samples, Seed = 1, MaxDegreeOfParallelism = Threads });
        _theta = Heads.Scores(Batch, D);
        _cotangent = Heads.Scores(Batch, D, seed: 2);
        _solution = new float[Batch * D];
        _vjp = new float[Batch * D];
    }

    [Benchmark(Baseline = true, Description = "Forward")]
    public void Forward() => _optimizer.Forward(_theta, _solution);

    [Benchmark(Description = "Forward+VJP")]
    public void ForwardVjp() => _optimizer.ForwardVjp(_theta, _cotangent, _solution, _vjp);
}
