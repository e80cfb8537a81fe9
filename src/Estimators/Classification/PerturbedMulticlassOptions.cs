using Microsoft.ML.Perturbed.Noise;

namespace Microsoft.ML.Perturbed.Estimators.Classification;

/// <summary>Options of the perturbed Fenchel-Young multiclass trainer (key-typed label; Gumbel noise by default).</summary>
public sealed class PerturbedMulticlassOptions : PerturbedTrainerOptions
{
    /// <summary>Creates the options with Gumbel noise (Fenchel-Young is then the softmax cross-entropy, with its closed form).</summary>
    public PerturbedMulticlassOptions()
    {
        Noise = NoiseDistribution.Gumbel;
    }
}
