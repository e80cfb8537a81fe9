using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Classification;

/// <summary>
/// Multiclass classification with the perturbed Fenchel-Young loss over the simplex (Berthet et al. 2020): the one
/// perturbed trainer with a <see cref="PerturbedHeads.Multiclass"/>. Created by <c>mlContext.MulticlassClassification.Trainers.PerturbedFenchelYoung()</c>.
/// </summary>
public sealed class PerturbedMulticlassTrainer : PerturbedTrainer<PerturbedMulticlassTransformer>
{
    internal PerturbedMulticlassTrainer(IHost host, PerturbedMulticlassOptions options) : base(host, new MulticlassHead(), CheckNoise(options))
    {
    }

    private static PerturbedMulticlassOptions CheckNoise(PerturbedMulticlassOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Noise is GumbelNoise or NormalNoise ? options
            : throw new ArgumentException($"The multiclass trainer supports Gumbel and normal noise (the model saves its noise by name), got {options.Noise?.Name ?? "null"}.", nameof(options));
    }
}
