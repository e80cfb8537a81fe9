using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>
/// Trains a model whose top-k selection or perfect matching of its scores matches 0/1 labels: the one perturbed trainer
/// with a <see cref="TopKHead"/> or <see cref="MatchingHead"/>. Created by <c>mlContext.StructuredPrediction().Trainers.TopK(...)</c>
/// or <c>.Matching(...)</c>.
/// </summary>
public sealed class PerturbedStructuredTrainer : PerturbedTrainer<StructuredPredictionTransformer>
{
    internal PerturbedStructuredTrainer(IHost host, StructuredHeadKind kind, int parameter, PerturbedStructuredOptions options)
        : base(host, kind switch
        {
            StructuredHeadKind.TopK => new TopKHead(parameter),
            StructuredHeadKind.Matching => new MatchingHead(parameter),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown structured head."),
        }, options)
    {
    }
}
