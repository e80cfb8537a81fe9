using BenchmarkDotNet.Attributes;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>Perturbed maximum-weight assignment (O(n³) per solve) against the bare solves, batch 16, M 10.</summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class MatchingBenchmarks
{
    private const int Batch = 16, Samples = 10;
    private PerturbedOptimizer _optimizer = null!;
    private Oracle _oracle = null!;
    private float[] _theta = null!, _solution = null!;
    private float[][] _noisy = null!;

    [Params(10, 50, 100)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _oracle = new MatchingOracle(N);
        _optimizer = new PerturbedOptimizer(_oracle, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = Samples, Seed = 1 });
        _theta = Heads.Scores(Batch, N * N);
        _solution = new float[Batch * N * N];
        _noisy = Heads.NoisyCopies(_theta, Samples, 0.5);
    }

    [Benchmark(Baseline = true, Description = "Bare M×batch solves")]
    public void BareSolves()
    {
        foreach (float[] noisy in _noisy)
        {
            _oracle.Solve(noisy, _solution);
        }
    }

    [Benchmark(Description = "Perturbed forward")]
    public void Perturbed() => _optimizer.Forward(_theta, _solution);
}
