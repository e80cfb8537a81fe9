namespace Microsoft.ML.Perturbed.Estimators.Ranking;

/// <summary>A fold of <see cref="LabelRankingCatalog.CrossValidate"/>: its model, scored hold-out set and metrics.</summary>
public sealed record LabelRankingCrossValidationResult(int Fold, LabelRankingMetrics Metrics, ITransformer Model, IDataView ScoredHoldOutSet);
