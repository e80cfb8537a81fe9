namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// How the rows of one <see cref="SinkhornSorting"/> call converged, as returned by
/// <see cref="SinkhornSorting.ForwardWithReport(ReadOnlySpan{float}, Span{float})"/> and
/// <see cref="SinkhornSorting.ForwardVjpWithReport(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float})"/>
/// (and their double overloads). It describes that call alone and does not depend on the thread count; to follow
/// several calls, <see cref="Combine"/> their reports.
/// </summary>
/// <param name="Rows">Rows computed.</param>
/// <param name="CappedRows">Rows stopped by the iteration cap with the row-marginal error still above the tolerance.</param>
/// <param name="MostIterations">The most iterations a row used.</param>
/// <param name="WorstMarginalError">The largest final row-marginal error Σᵢ |(P1)ᵢ − aᵢ| of any row.</param>
public readonly record struct SinkhornConvergence(long Rows, long CappedRows, int MostIterations, double WorstMarginalError)
{
    /// <summary>
    /// In a VJP call of an operator that differentiates implicitly (<see cref="SinkhornOptions.ImplicitDifferentiation"/>),
    /// the rows whose VJP was computed by unrolling the iterations instead: the <see cref="CappedRows"/> (the implicit
    /// derivative holds only at convergence) and any row whose m × m Schur system had no solution in double precision.
    /// 0 for forward calls and for operators that unroll (the default).
    /// </summary>
    public long ImplicitFallbackRows { get; init; }

    /// <summary>The report of both calls together: rows, capped rows and fallback rows added, the most iterations and the worst error kept.</summary>
    /// <param name="other">Another call's report.</param>
    public SinkhornConvergence Combine(SinkhornConvergence other) =>
        new(Rows + other.Rows, CappedRows + other.CappedRows, Math.Max(MostIterations, other.MostIterations), Math.Max(WorstMarginalError, other.WorstMarginalError))
        {
            ImplicitFallbackRows = ImplicitFallbackRows + other.ImplicitFallbackRows,
        };
}
