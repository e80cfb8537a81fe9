using BenchmarkDotNet.Attributes;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// The exact TSP head (<see cref="Oracle.TravelingSalesman"/>: Held–Karp over (subset, last city), O(2ᵏk²) per row): a batch of
/// 16 instances of k cities solved bare, and perturbed (M = 10 normal samples, ε = 0.5, the training setting of the
/// identity-with-projection paper's Globe-TSP), on every core. The cost should grow by about 2·((k + 1)/k)² ≈ 2.3–2.5 per
/// added city.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class TravelingSalesmanBenchmarks
{
    private const int Batch = 16;
    private Oracle _oracle = null!;
    private PerturbedOptimizer _perturbed = null!;
    private float[] _costs = null!, _tours = null!;

    [Params(5, 8, 10, 12, 14, 16)]
    public int Cities { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _oracle = Oracle.TravelingSalesman(Cities);
        _perturbed = new PerturbedOptimizer(_oracle, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = 10, Seed = 1 });
        // Positive edge costs, as distances between cities.
        _costs = Heads.Scores(Batch, _oracle.Dimension).Select(v => 1 + Math.Abs(v)).ToArray();
        _tours = new float[Batch * _oracle.OutputDimension];
    }

    [Benchmark(Baseline = true, Description = "bare Held–Karp, batch 16")]
    public float Bare()
    {
        _oracle.Solve(_costs, _tours);
        return _tours[0];
    }

    [Benchmark(Description = "perturbed, M = 10, batch 16")]
    public float Perturbed()
    {
        _perturbed.Forward(_costs, _tours);
        return _tours[0];
    }
}
