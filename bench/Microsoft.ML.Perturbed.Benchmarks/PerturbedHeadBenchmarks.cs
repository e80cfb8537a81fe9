using BenchmarkDotNet.Attributes;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// Perturbed forward pass (noise drawn per row and sample, solve, accumulate) against the floor: the same M × batch
/// oracle calls on noisy inputs drawn beforehand, parallel over rows the same way.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class PerturbedHeadBenchmarks
{
    private PerturbedOptimizer _optimizer = null!;
    private Oracle _oracle = null!;
    private float[] _theta = null!, _solution = null!;
    private float[][] _noisy = null!;

    [Params("Argmax", "TopK10", "Ranking")]
    public string Head { get; set; } = "Ranking";

    [Params(100, 1000)]
    public int D { get; set; }

    [Params(64, 256)]
    public int Batch { get; set; }

    [Params(1, 10, 100)]
    public int M { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _oracle = Heads.Create(Head, D);
        _optimizer = new PerturbedOptimizer(_oracle, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = M, Seed = 1 });
        _theta = Heads.Scores(Batch, D);
        _solution = new float[Batch * _oracle.OutputDimension];
        _noisy = Heads.NoisyCopies(_theta, M, 0.5);
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
