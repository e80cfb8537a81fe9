using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// The perturbed trainer over any head — shortest paths, knapsack, a user's oracle (<see cref="PerturbedHeads.RegisterOracle"/>)
/// — created by <c>mlContext.StructuredPrediction().Trainers.Perturbed(head, options)</c>.
/// </summary>
public sealed class PerturbedTrainer : PerturbedTrainer<PerturbedPredictionTransformer>
{
    internal PerturbedTrainer(IHost host, PerturbedHead head, PerturbedTrainerOptions options) : base(host, head, options)
    {
    }
}
