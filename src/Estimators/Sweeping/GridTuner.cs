namespace Microsoft.ML.Perturbed.Estimators.Sweeping;

/// <summary>The full grid: ranges at <c>levels</c> evenly spaced unit coordinates (ends included), every candidate of a choice.</summary>
internal sealed class GridTuner : ISweepTuner
{
    private readonly double[][] _axes;
    private long _next;

    /// <summary>Creates the grid of <paramref name="space"/>.</summary>
    public GridTuner(SweepSpace space, int levels = 5)
    {
        ArgumentNullException.ThrowIfNull(space);
        if (levels < 2) throw new ArgumentOutOfRangeException(nameof(levels), levels, "A grid needs at least 2 levels per range.");
        _axes = space.Parameters.Select(p => p.Choices is { } c
            ? Enumerable.Range(0, c.Count).Select(j => (j + 0.5) / c.Count).ToArray()
            : Enumerable.Range(0, levels).Select(i => (double)i / (levels - 1)).ToArray()).ToArray();
        Size = _axes.Aggregate(1L, (n, a) => n * a.Length);
    }

    /// <summary>Number of grid points.</summary>
    public long Size { get; }

    /// <inheritdoc/>
    public string Name => "grid";

    /// <inheritdoc/>
    public bool IsExhausted => _next >= Size;

    /// <inheritdoc/>
    public IReadOnlyList<double[]> Propose(int count)
    {
        var points = new List<double[]>();
        for (; points.Count < count && _next < Size; _next++)
        {
            long index = _next;
            var point = new double[_axes.Length];
            for (int i = _axes.Length - 1; i >= 0; i--)
            {
                point[i] = _axes[i][index % _axes[i].Length];
                index /= _axes[i].Length;
            }
            points.Add(point);
        }
        return points;
    }

    /// <inheritdoc/>
    public void Report(double[] point, double score)
    {
    }
}
