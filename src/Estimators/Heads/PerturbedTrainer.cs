using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// The perturbed trainer over any head — top-k, matching, shortest paths, knapsack, a user's oracle
/// (<see cref="PerturbedHeads.RegisterOracle"/>) — created by <c>mlContext.StructuredPrediction().Trainers.TopK(k)</c>,
/// <c>.Matching(n)</c>, <c>.ShortestPath(…)</c>, <c>.GridShortestPath(…)</c>, <c>.Knapsack(…)</c> or <c>.Perturbed(head, options)</c>;
/// its models are <see cref="PerturbedPredictionTransformer"/>s.
/// </summary>
public sealed class PerturbedTrainer : PerturbedTrainer<PerturbedPredictionTransformer>
{
    internal PerturbedTrainer(IHost host, PerturbedHead head, PerturbedTrainerOptions options) : base(host, head, options)
    {
    }
}
