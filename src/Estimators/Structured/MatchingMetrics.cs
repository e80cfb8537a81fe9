namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>Matching metrics (Cohen Indelman &amp; Hazan 2021): share of wrongly assigned positions, and of rows with any error.</summary>
public sealed record MatchingMetrics(double WrongPositions, double AnyError, long Rows);
