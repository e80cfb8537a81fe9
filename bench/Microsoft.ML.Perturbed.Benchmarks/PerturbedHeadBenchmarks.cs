using BenchmarkDotNet.Attributes;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>Perturbed Argmax, TopK(10) and Ranking forward passes against the bare solves (see <see cref="PerturbedVersusBare"/>).</summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class PerturbedHeadBenchmarks : PerturbedVersusBare
{
    [Params("Argmax", "TopK10", "Ranking")]
    public string Head { get; set; } = "Ranking";

    [Params(100, 1000)]
    public int D { get; set; }

    [Params(64, 256)]
    public int Batch { get; set; }

    [Params(1, 10, 100)]
    public int M { get; set; }

    [GlobalSetup]
    public void Setup() => Prepare(Heads.Create(Head, D), Batch, M);
}
