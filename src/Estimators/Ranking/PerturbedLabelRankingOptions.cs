namespace Microsoft.ML.Perturbed.Estimators.Ranking;

/// <summary>
/// Options of the perturbed label-ranking trainer. The label column holds rank vectors (1 = most preferred), each row a
/// permutation of 1..k.
/// </summary>
public sealed class PerturbedLabelRankingOptions : PerturbedTrainerOptions
{
}
