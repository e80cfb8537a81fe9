using BenchmarkDotNet.Attributes;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// The Kendall kernel of two score vectors: <see cref="PermutationKernels.Kendall{T}"/> (merge-sort inversion counting,
/// O(n log n)) against counting the concordant and discordant pairs one by one (O(n²), the baseline), and the Mallows
/// kernel, which shares the counting. One pair per call, on one thread.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class PermutationKernelBenchmarks
{
    private float[] _x = null!, _y = null!;

    [Params(100, 1000, 10000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _x = Heads.Scores(1, N);
        _y = Heads.Scores(1, N, seed: 2);
    }

    [Benchmark(Baseline = true, Description = "Kendall, O(n²) pair counting")]
    public double BruteForce()
    {
        long score = 0;
        float[] x = _x, y = _y;
        for (int i = 0; i < x.Length; i++)
        {
            for (int j = i + 1; j < x.Length; j++)
            {
                score += Math.Sign(x[i] - x[j]) * Math.Sign(y[i] - y[j]);
            }
        }
        return score / (x.Length * (x.Length - 1) / 2.0);
    }

    [Benchmark(Description = "Kendall, O(n log n) merge sort")]
    public double Kendall() => PermutationKernels.Kendall<float>(_x, _y);

    [Benchmark(Description = "Mallows, O(n log n) merge sort")]
    public double Mallows() => PermutationKernels.Mallows<float>(_x, _y, 0.01);
}
