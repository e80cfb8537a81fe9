using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Tests.Robustness;

/// <summary>
/// The documented invariants of the permutahedron operators at every scale, with tolerances set by the precision of
/// the arithmetic (docs/architecture.md, Numerical ranges and refusals): L2 soft sorts keep Σ y = Σ θ within
/// <see cref="Precision"/>·Σ|θ|; KL soft sorts keep LSE(sign·y) = LSE(sign·θ) within <see cref="Precision"/>·max(1, max|θ|);
/// soft sorts lie in [min θ, max θ] and are sorted; soft ranks lie in [1, n] and sum to n(n + 1)/2.
/// </summary>
internal static class SortingInvariants
{
    /// <summary>Four roundings of a float output (2⁻²⁴ each): every output is rounded once, and Σ|y| ≤ Σ|θ| for y in P(θ).</summary>
    public const double Precision = 4.0 / (1 << 24);

    public static double LogSumExp(IEnumerable<double> values)
    {
        double[] v = values.ToArray();
        double max = v.Max();
        return max + Math.Log(v.Sum(x => Math.Exp(x - max)));
    }

    /// <summary>Asserts the invariants of <paramref name="op"/>'s output <paramref name="y"/> for the row <paramref name="x"/>.</summary>
    public static void Assert(PermutahedronProjection op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, string what)
    {
        int n = x.Length;
        double[] xd = x.ToArray().Select(v => (double)v).ToArray(), yd = y.ToArray().Select(v => (double)v).ToArray();
        Xunit.Assert.All(yd, v => Xunit.Assert.True(double.IsFinite(v), $"{what}: output {v}"));
        if (op is SoftRank)
        {
            Xunit.Assert.All(yd, v => Xunit.Assert.InRange(v, 1 - Precision * n, n + Precision * n));
            double sum = yd.Sum(), expected = n * (n + 1) / 2.0;
            Xunit.Assert.True(Math.Abs(sum - expected) <= Precision * n * expected, $"{what}: ranks sum to {sum}, not {expected}");
            return;
        }
        Xunit.Assert.IsType<SoftSort>(op);
        bool ascending = op.Direction == SortDirection.Ascending;
        double lo = xd.Min(), hi = xd.Max(), maxAbs = xd.Max(Math.Abs), sumAbs = xd.Sum(Math.Abs);
        for (int k = 0; k < n; k++)
        {
            Xunit.Assert.True(yd[k] >= lo && yd[k] <= hi, $"{what}: y[{k}] = {yd[k]} outside [{lo}, {hi}]");
            if (k + 1 < n) Xunit.Assert.True(ascending ? yd[k] <= yd[k + 1] : yd[k] >= yd[k + 1], $"{what}: not sorted at {k}");
        }
        if (op.Regularization == SoftRegularization.L2)
        {
            double gap = Math.Abs(yd.Sum() - xd.Sum());
            Xunit.Assert.True(gap <= Precision * sumAbs, $"{what}: Σy − Σθ = {gap:G3} > {Precision:G3}·Σ|θ| = {Precision * sumAbs:G3}");
        }
        else
        {
            double sign = ascending ? -1 : 1;
            double gap = Math.Abs(LogSumExp(yd.Select(v => sign * v)) - LogSumExp(xd.Select(v => sign * v)));
            Xunit.Assert.True(gap <= Precision * Math.Max(1, maxAbs), $"{what}: LSE(sign·y) − LSE(sign·θ) = {gap:G3} > {Precision:G3}·max(1, max|θ|)");
        }
    }
}
