namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>Top-k metrics: precision@k = |predicted ∩ true| / k averaged over rows, and the share of rows whose set is exact.</summary>
public sealed record TopKMetrics(double PrecisionAtK, double ExactSetMatch, long Rows);
