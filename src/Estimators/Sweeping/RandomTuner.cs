namespace Microsoft.ML.Perturbed.Estimators.Sweeping;

/// <summary>Uniform random points of the unit cube from a seeded generator.</summary>
internal sealed class RandomTuner(int dimension, int seed) : ISweepTuner
{
    private readonly System.Random _random = new(seed);

    /// <inheritdoc/>
    public string Name => "random";

    /// <inheritdoc/>
    public bool IsExhausted => false;

    /// <inheritdoc/>
    public IReadOnlyList<double[]> Propose(int count) =>
        Enumerable.Range(0, Math.Max(0, count)).Select(_ => Enumerable.Range(0, dimension).Select(_ => _random.NextDouble()).ToArray()).ToArray();

    /// <inheritdoc/>
    public void Report(double[] point, double score)
    {
    }
}
