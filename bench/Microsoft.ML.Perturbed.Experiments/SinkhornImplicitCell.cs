namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// One setting of the Sinkhorn implicit-differentiation experiment: n inputs, m targets, ε and the tolerance; the mean
/// iterations per row, the rows stopped at the cap (whose implicit VJP was unrolled instead), milliseconds per row of the
/// forward pass alone and with each VJP, and relative gaps ‖a − b‖/‖b‖: implicit against unrolled, each against the
/// converged derivative (the unrolled VJP at tolerance 1e-13), and the implicit VJP against central differences of the
/// converged forward pass (NaN where not measured).
/// </summary>
public sealed record SinkhornImplicitCell(int N, int M, double Epsilon, double Tolerance, double MeanIterations, long FallbackRows,
    double ForwardMs, double ForwardUnrolledMs, double ForwardImplicitMs, double GapToUnrolled, double UnrolledGapToConverged, double ImplicitGapToConverged,
    double FiniteDifferenceGap);
