namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>Target quantiles f for quantile normalization, ascending, one per position of a row.</summary>
internal static class QuantileTargets
{
    /// <summary>Uniform quantiles fₖ = (k + ½)/n, k = 0 … n−1.</summary>
    public static double[] Uniform(int n)
    {
        Guard.Positive(n, nameof(n));
        return Enumerable.Range(0, n).Select(k => (k + 0.5) / n).ToArray();
    }

    /// <summary>Standard normal quantiles fₖ = Φ⁻¹((k + ½)/n).</summary>
    public static double[] Normal(int n) =>
        Uniform(n).Select(p => MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, p)).ToArray();

    /// <summary>
    /// The classic quantile-normalization reference learned from data: the mean, over rows, of each row sorted
    /// ascending (Bolstad et al. 2003). Every row must be finite.
    /// </summary>
    /// <param name="rows">Row-major <c>[rows × n]</c> data.</param>
    /// <param name="n">Row length.</param>
    /// <exception cref="ArgumentException">The data are empty, not a whole number of rows, or not finite (the message names the row).</exception>
    public static double[] FromData(ReadOnlySpan<float> rows, int n)
    {
        Guard.Positive(n, nameof(n));
        int count = Guard.RowCount(rows.Length, n, nameof(rows));
        Guard.Finite(rows, n, nameof(rows));
        var sum = new double[n];
        var sorted = new float[n];
        for (int r = 0; r < count; r++)
        {
            rows.Slice(r * n, n).CopyTo(sorted);
            Array.Sort(sorted);
            for (int k = 0; k < n; k++) sum[k] += sorted[k];
        }
        for (int k = 0; k < n; k++) sum[k] /= count;
        return sum;
    }
}
