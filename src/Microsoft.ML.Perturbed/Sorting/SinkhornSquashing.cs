namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// The map of a row into [0, 1] before transport (<see cref="Squashing"/>): x̃ = squash((x − μ)/(s + δ)), μ and s the
/// row's mean and standard deviation, δ = 10⁻¹²; and its reverse mode x̃̄ → x̄ through the squashing and the
/// standardization. Immutable; the row's values live in its <see cref="SinkhornWorkspace"/>.
/// </summary>
internal sealed class SinkhornSquashing(Squashing kind)
{
    /// <summary>δ: keeps a constant row (s = 0) finite.</summary>
    private const double StdFloor = 1e-12;

    /// <summary><c>w.Signed</c> → <c>w.Squashed</c>, keeping the standardized values and μ, s for the backward pass.</summary>
    public void Forward(SinkhornWorkspace w)
    {
        double[] x = w.Signed, xt = w.Squashed, z = w.Standardized;
        int n = x.Length;
        if (kind == Squashing.None)
        {
            x.CopyTo(xt, 0);
            return;
        }
        double mean = x.Average(), variance = 0;
        for (int i = 0; i < n; i++) variance += (x[i] - mean) * (x[i] - mean);
        w.Mean = mean;
        w.Std = Math.Sqrt(variance / n);
        for (int i = 0; i < n; i++)
        {
            z[i] = (x[i] - mean) / (w.Std + StdFloor);
            xt[i] = kind == Squashing.Logistic ? 1 / (1 + Math.Exp(-z[i])) : 0.5 + Math.Atan(z[i]) / Math.PI;
        }
    }

    /// <summary>x̃̄ → x̄ through the squashing and the standardization (adds <c>w.SquashedBar</c>'s image to <c>w.SignedBar</c>).</summary>
    public void Backward(SinkhornWorkspace w)
    {
        double[] xBar = w.SignedBar, xtBar = w.SquashedBar, z = w.Standardized, xt = w.Squashed, x = w.Signed;
        int n = x.Length;
        if (kind == Squashing.None)
        {
            for (int i = 0; i < n; i++) xBar[i] += xtBar[i];
            return;
        }
        double sigma = w.Std + StdFloor, zBarMean = 0, zBarDot = 0;
        Span<double> zBar = w.ZBar;
        for (int i = 0; i < n; i++)
        {
            zBar[i] = kind == Squashing.Logistic ? xtBar[i] * xt[i] * (1 - xt[i]) : xtBar[i] / (Math.PI * (1 + z[i] * z[i]));
            zBarMean += zBar[i] / n;
            zBarDot += zBar[i] * (x[i] - w.Mean);
        }
        // zᵢ = (xᵢ − μ)/(s + δ): x̄ₖ = (z̄ₖ − mean z̄)/(s + δ) − (xₖ − μ)·Σᵢ z̄ᵢ(xᵢ − μ)/(n·s·(s + δ)²).
        for (int k = 0; k < n; k++)
        {
            double v = (zBar[k] - zBarMean) / sigma;
            if (w.Std > 0) v -= (x[k] - w.Mean) * zBarDot / (n * w.Std * sigma * sigma);
            xBar[k] += v;
        }
    }
}
