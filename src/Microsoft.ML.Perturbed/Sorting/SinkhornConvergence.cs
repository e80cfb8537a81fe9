namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>How Sinkhorn rows converged (see <see cref="SinkhornSorting.Convergence"/>).</summary>
/// <param name="Rows">Rows computed.</param>
/// <param name="CappedRows">Rows stopped by the iteration cap with the row-marginal error still above the tolerance.</param>
/// <param name="MostIterations">The most iterations a row used.</param>
/// <param name="WorstMarginalError">The largest final row-marginal error Σᵢ |(P1)ᵢ − aᵢ|/… of any row.</param>
public readonly record struct SinkhornConvergence(long Rows, long CappedRows, int MostIterations, double WorstMarginalError);
