using BenchmarkDotNet.Attributes;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>Perturbed maximum-weight assignment (O(n³) per solve) against the bare solves, batch 16, M 10.</summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class MatchingBenchmarks : PerturbedVersusBare
{
    [Params(10, 50, 100)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup() => Prepare(new MatchingOracle(N), batch: 16, samples: 10);
}
