using BenchmarkDotNet.Attributes;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>Sinkhorn soft ranks, a fixed 100 iterations (tolerance 0), one row at a time: cost per n·m·iteration.</summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class SinkhornBenchmarks
{
    private SinkhornSorting _op = null!;
    private float[] _x = null!, _result = null!, _g = null!, _vjp = null!;

    [Params(10, 100, 300)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _op = new SinkhornSorting(N, new SinkhornOptions { Epsilon = 0.01, Tolerance = 0, MaxIterations = 100, MaxDegreeOfParallelism = 1 });
        _x = Heads.Scores(8, N);
        _g = Heads.Scores(8, N, seed: 3);
        _result = new float[_x.Length];
        _vjp = new float[_x.Length];
    }

    [Benchmark(Baseline = true, Description = "Forward (8 rows)")]
    public void Forward() => _op.Forward(_x, _result);

    [Benchmark(Description = "Forward+VJP (8 rows)")]
    public void ForwardVjp() => _op.ForwardVjp(_x, _g, _result, _vjp);
}
