namespace Microsoft.ML.Perturbed.Estimators.Ranking;

/// <summary>Quality of predicted label rankings against true ones, averaged over rows.</summary>
/// <param name="Spearman">Spearman's ρ = 1 − 6Σδ²/(k(k² − 1)), in [−1, 1].</param>
/// <param name="KendallTau">Kendall's τ: (concordant − discordant pairs) / (k(k − 1)/2), in [−1, 1].</param>
/// <param name="ExactMatch">Share of rows whose whole ranking is right.</param>
/// <param name="PerPositionAccuracy">For each position 1..k, the share of rows whose label at that position is right.</param>
/// <param name="Rows">Rows evaluated.</param>
public sealed record LabelRankingMetrics(double Spearman, double KendallTau, double ExactMatch, IReadOnlyList<double> PerPositionAccuracy, long Rows);
