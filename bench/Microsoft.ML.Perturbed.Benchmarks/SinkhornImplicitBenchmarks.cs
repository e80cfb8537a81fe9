using BenchmarkDotNet.Attributes;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// Sinkhorn soft ranks of 8 rows of n = 100, one thread, stopped at a row-marginal error of 1e-6: the forward pass alone,
/// and with the unrolled VJP (reverse mode through every iteration) or the implicit one (an m × m Schur system per row,
/// <see cref="SinkhornOptions.ImplicitDifferentiation"/>), against the number of targets m and ε (which sets the
/// iteration count: about 20, 200 and 600–3600 at ε = 0.1, 0.01, 0.003; bench/results/sinkhorn_implicit.md).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class SinkhornImplicitBenchmarks
{
    private const int N = 100, Rows = 8;
    private SinkhornSorting _unrolled = null!, _implicit = null!;
    private float[] _x = null!, _result = null!, _g = null!, _vjp = null!;

    [Params(5, 20, 100)]
    public int M { get; set; }

    [Params(0.1, 0.01, 0.003)]
    public double Epsilon { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        SinkhornOptions Options(bool implicitVjp) => new()
        {
            Epsilon = Epsilon, Targets = M, Tolerance = 1e-6, MaxIterations = 100_000, ImplicitDifferentiation = implicitVjp, MaxDegreeOfParallelism = 1,
        };
        _unrolled = new SinkhornSorting(N, Options(false));
        _implicit = new SinkhornSorting(N, Options(true));
        _x = Heads.Scores(Rows, N);
        _g = Heads.Scores(Rows, N, seed: 3);
        _result = new float[_x.Length];
        _vjp = new float[_x.Length];
    }

    [Benchmark(Baseline = true, Description = "Forward (8 rows)")]
    public void Forward() => _unrolled.Forward(_x, _result);

    [Benchmark(Description = "Forward+VJP, unrolled (8 rows)")]
    public void ForwardVjpUnrolled() => _unrolled.ForwardVjp(_x, _g, _result, _vjp);

    [Benchmark(Description = "Forward+VJP, implicit (8 rows)")]
    public void ForwardVjpImplicit() => _implicit.ForwardVjp(_x, _g, _result, _vjp);
}
