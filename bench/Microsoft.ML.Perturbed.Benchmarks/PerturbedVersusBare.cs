using BenchmarkDotNet.Attributes;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// A perturbed forward pass against its floor: the same M × batch oracle calls on noisy inputs drawn beforehand,
/// parallel over rows the same way. Derived classes pick the oracle and shape.
/// </summary>
public abstract class PerturbedVersusBare
{
    private PerturbedOptimizer _optimizer = null!;
    private Oracle _oracle = null!;
    private float[] _theta = null!, _solution = null!;
    private float[][] _noisy = null!;

    /// <summary>Prepares the oracle, scores and pre-drawn noisy copies (ε = 0.5).</summary>
    protected void Prepare(Oracle oracle, int batch, int samples)
    {
        _oracle = oracle;
        _optimizer = new PerturbedOptimizer(oracle, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = samples, Seed = 1 });
        _theta = Heads.Scores(batch, oracle.Dimension);
        _solution = new float[batch * oracle.OutputDimension];
        _noisy = Heads.NoisyCopies(_theta, samples, 0.5);
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
