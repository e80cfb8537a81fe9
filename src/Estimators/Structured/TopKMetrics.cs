using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Evaluation;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>Top-k metrics: precision@k = |predicted ∩ true| / k averaged over rows, and the share of rows whose set is exact.</summary>
public sealed record TopKMetrics(double PrecisionAtK, double ExactSetMatch, long Rows);
