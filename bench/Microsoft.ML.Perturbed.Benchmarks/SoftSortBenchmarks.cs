using BenchmarkDotNet.Attributes;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// Soft rank / soft sort by permutahedron projection (L2 and KL, forward and forward+VJP) against the floor: sorting
/// the same rows with <c>MemoryExtensions.Sort</c>. Everything runs on one thread so the ratio compares work.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class SoftSortBenchmarks
{
    private SoftRank _rankL2 = null!, _rankKL = null!;
    private SoftSort _sortL2 = null!, _sortKL = null!;
    private float[] _x = null!, _scratch = null!, _result = null!, _g = null!, _vjp = null!;

    [Params(10, 100, 1000, 5000)]
    public int N { get; set; }

    [Params(1, 256)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _rankL2 = new SoftRank(N, 1.0, SoftRegularization.L2) { MaxDegreeOfParallelism = 1 };
        _rankKL = new SoftRank(N, 1.0, SoftRegularization.KL) { MaxDegreeOfParallelism = 1 };
        _sortL2 = new SoftSort(N, 1.0, SoftRegularization.L2) { MaxDegreeOfParallelism = 1 };
        _sortKL = new SoftSort(N, 1.0, SoftRegularization.KL) { MaxDegreeOfParallelism = 1 };
        _x = Heads.Scores(Batch, N);
        _g = Heads.Scores(Batch, N, seed: 3);
        _scratch = new float[_x.Length];
        _result = new float[_x.Length];
        _vjp = new float[_x.Length];
    }

    [Benchmark(Baseline = true, Description = "Plain sort (floor)")]
    public void PlainSort()
    {
        _x.CopyTo(_scratch, 0);
        for (int r = 0; r < Batch; r++) _scratch.AsSpan(r * N, N).Sort();
    }

    [Benchmark(Description = "Rank L2 forward")]
    public void RankL2() => _rankL2.Forward(_x, _result);

    [Benchmark(Description = "Rank L2 forward+VJP")]
    public void RankL2Vjp() => _rankL2.ForwardVjp(_x, _g, _result, _vjp);

    [Benchmark(Description = "Rank KL forward")]
    public void RankKL() => _rankKL.Forward(_x, _result);

    [Benchmark(Description = "Rank KL forward+VJP")]
    public void RankKLVjp() => _rankKL.ForwardVjp(_x, _g, _result, _vjp);

    [Benchmark(Description = "Sort L2 forward")]
    public void SortL2() => _sortL2.Forward(_x, _result);

    [Benchmark(Description = "Sort L2 forward+VJP")]
    public void SortL2Vjp() => _sortL2.ForwardVjp(_x, _g, _result, _vjp);

    [Benchmark(Description = "Sort KL forward")]
    public void SortKL() => _sortKL.Forward(_x, _result);

    [Benchmark(Description = "Sort KL forward+VJP")]
    public void SortKLVjp() => _sortKL.ForwardVjp(_x, _g, _result, _vjp);
}
