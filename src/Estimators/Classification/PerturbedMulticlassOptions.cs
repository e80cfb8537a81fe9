using Microsoft.ML.Perturbed.Noise;

namespace Microsoft.ML.Perturbed.Estimators.Classification;

/// <summary>Options of the perturbed Fenchel-Young multiclass trainer (key-typed label; Gumbel noise by default).</summary>
public sealed class PerturbedMulticlassOptions : PerturbedTrainerOptions
{
    /// <summary>Noise: Gumbel (default, the scores softmax(θ/ε) are then the exact perturbed argmax) or normal.</summary>
    public NoiseDistribution Noise { get; set; } = NoiseDistribution.Gumbel;

    private protected override NoiseDistribution NoiseLaw => Noise;
}
