namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// One Sinkhorn iteration in the log domain, on the potentials (α, β) in place — one exponential per plan entry and
/// half-iteration. <see cref="ScalingSinkhornSolver"/> falls back to it when even absorbed scalings leave their window;
/// <see cref="LogDomainSinkhornSolver"/> takes every iteration with it.
/// </summary>
internal static class LogDomainIteration
{
    /// <summary>
    /// fᵢ = −ε LSEⱼ(log bⱼ + (gⱼ − Cᵢⱼ)/ε), then gⱼ = −ε LSEᵢ(log aᵢ + (fᵢ − Cᵢⱼ)/ε) over the transposed cost's row j.
    /// Returns the row-marginal error before the update, Σᵢ |exp((fᵢ − fᵢ_new)/ε) − 1|/n.
    /// </summary>
    public static double Step(SinkhornProblem p, SinkhornWorkspace w)
    {
        int n = p.N, m = p.M;
        double eps = p.Epsilon, inverseEps = 1 / eps, logA = -Math.Log(n), error = 0;
        double[] f = w.Alpha, g = w.Beta;
        if (!w.CostTransposed) TransposeCost(w, n, m);
        Span<double> rowBuffer = w.Buffer.AsSpan(0, m), columnBuffer = w.Buffer.AsSpan(0, n);
        for (int i = 0; i < n; i++)
        {
            GibbsKernel.Exponent(g, w.Cost.AsSpan(i * m, m), inverseEps, p.LogWeights, rowBuffer);
            double fNew = -eps * GibbsKernel.LogSumExp(rowBuffer);
            error += Math.Abs(Math.Exp((f[i] - fNew) / eps) - 1) / n;
            f[i] = fNew;
        }
        for (int j = 0; j < m; j++)
        {
            GibbsKernel.Exponent(f, w.CostT.AsSpan(j * n, n), inverseEps, default, columnBuffer);
            g[j] = -eps * (logA + GibbsKernel.LogSumExp(columnBuffer));
        }
        return error;
    }

    /// <summary>The transposed cost, which only log-domain iterations read: filled on the first one of a row.</summary>
    private static void TransposeCost(SinkhornWorkspace w, int n, int m)
    {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                w.CostT[j * n + i] = w.Cost[i * m + j];
        w.CostTransposed = true;
    }
}
