namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// How one Sinkhorn row converged, copied out of its workspace into the call's per-row buffer; a call's
/// <see cref="SinkhornConvergence"/> and <see cref="SinkhornPathCounts"/> are reduced from these after its rows ran, in
/// row order, so they describe that call alone and do not depend on the thread count.
/// </summary>
/// <param name="Iterations">Iterations the row ran.</param>
/// <param name="MarginalError">Its row-marginal error before the last update.</param>
/// <param name="Capped">Whether it stopped at the iteration cap with the error above the tolerance.</param>
/// <param name="LogIterations">Iterations taken in the log domain.</param>
/// <param name="Absorptions">Kernel computations (absorptions of the scalings into the potentials).</param>
/// <param name="ImplicitFallback">Whether an implicit VJP was unrolled for this row instead.</param>
internal readonly record struct SinkhornRowTrace(int Iterations, double MarginalError, bool Capped, int LogIterations, int Absorptions, bool ImplicitFallback = false)
{
    /// <summary>The convergence of <paramref name="rows"/>, and the paths their iterations took.</summary>
    public static (SinkhornConvergence Convergence, SinkhornPathCounts Paths) Reduce(ReadOnlySpan<SinkhornRowTrace> rows)
    {
        long capped = 0, logIterations = 0, absorptions = 0, fallbacks = 0;
        int most = 0;
        double worst = 0;
        foreach (SinkhornRowTrace row in rows)
        {
            if (row.Capped) capped++;
            if (row.ImplicitFallback) fallbacks++;
            most = Math.Max(most, row.Iterations);
            worst = Math.Max(worst, row.MarginalError);
            logIterations += row.LogIterations;
            absorptions += row.Absorptions;
        }
        return (new SinkhornConvergence(rows.Length, capped, most, worst) { ImplicitFallbackRows = fallbacks }, new SinkhornPathCounts(logIterations, absorptions));
    }
}
