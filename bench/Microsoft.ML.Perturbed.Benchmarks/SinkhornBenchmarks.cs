using BenchmarkDotNet.Attributes;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// Sinkhorn soft ranks, a fixed 100 iterations (tolerance 0), one row at a time: the iterations in the scalings (the
/// default, two matrix–vector products per iteration) against the log-domain iterations (one exponential per plan
/// entry and half-iteration, the previous algorithm: the internal <see cref="LogDomainSinkhornSolver"/>) in the same run.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class SinkhornBenchmarks
{
    private SinkhornSorting _scalings = null!, _logDomain = null!;
    private float[] _x = null!, _result = null!, _g = null!, _vjp = null!;

    [Params(10, 100, 300)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new SinkhornOptions { Epsilon = 0.01, Tolerance = 0, MaxIterations = 100, MaxDegreeOfParallelism = 1 };
        _scalings = new SinkhornSorting(N, options);
        _logDomain = new SinkhornSorting(N, options, p => new LogDomainSinkhornSolver(p));
        _x = Heads.Scores(8, N);
        _g = Heads.Scores(8, N, seed: 3);
        _result = new float[_x.Length];
        _vjp = new float[_x.Length];
    }

    [Benchmark(Baseline = true, Description = "Forward, log domain (8 rows)")]
    public void ForwardLogDomain() => _logDomain.Forward(_x, _result);

    [Benchmark(Description = "Forward, scalings (8 rows)")]
    public void Forward() => _scalings.Forward(_x, _result);

    [Benchmark(Description = "Forward+VJP, log domain (8 rows)")]
    public void ForwardVjpLogDomain() => _logDomain.ForwardVjp(_x, _g, _result, _vjp);

    [Benchmark(Description = "Forward+VJP, scalings (8 rows)")]
    public void ForwardVjp() => _scalings.ForwardVjp(_x, _g, _result, _vjp);
}
