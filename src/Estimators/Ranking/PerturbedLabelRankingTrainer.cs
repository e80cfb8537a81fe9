using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Ranking;

/// <summary>
/// Learns a label-ranking model with the perturbed Fenchel-Young loss over the permutahedron (Berthet et al. 2020, §5; or
/// any other loss of <see cref="PerturbedTrainerOptions.Loss"/>): the one perturbed trainer with a <see cref="PerturbedHeads.Ranking"/>.
/// Created by <c>mlContext.LabelRanking().Trainers.PerturbedFenchelYoung(...)</c>.
/// </summary>
public sealed class PerturbedLabelRankingTrainer : PerturbedTrainer<LabelRankingTransformer>
{
    internal PerturbedLabelRankingTrainer(IHost host, PerturbedLabelRankingOptions options) : base(host, new RankingHead(), options)
    {
    }
}
