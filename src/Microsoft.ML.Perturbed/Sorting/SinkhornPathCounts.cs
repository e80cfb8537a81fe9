namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Which paths a call's Sinkhorn iterations took, summed over its rows (diagnostics for the tests and the benchmark):
/// iterations taken in the log domain, and kernel computations K̃ = exp((α + β − C)/ε).
/// </summary>
/// <param name="LogIterations">Iterations taken in the log domain (every one, for <see cref="LogDomainSinkhornSolver"/>).</param>
/// <param name="Absorptions">Kernel computations: one per row, plus one per absorption of the scalings into the potentials.</param>
internal readonly record struct SinkhornPathCounts(long LogIterations, long Absorptions);
