using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// Where and how a structured model is trained: the managed CPU trainer (<see cref="CpuTrainingBackend"/>, the default)
/// or another backend, such as the TorchSharp one (GPU, MLP score models) in Microsoft.ML.Perturbed.TorchSharp.
/// Whatever the backend, the result is a managed <see cref="IScoreModel"/>, so saved models score without it.
/// </summary>
public interface IStructuredTrainingBackend
{
    /// <summary>Trains a score model whose head solutions match the targets; the arguments are those of <see cref="StructuredTrainer.Train"/>.</summary>
    IScoreModel Train(Oracle head, ReadOnlySpan<float> features, ReadOnlySpan<float> targets, int featureCount, StructuredTrainerOptions options,
        ReadOnlySpan<float> validationFeatures, ReadOnlySpan<float> validationTargets, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken);
}

/// <summary>The managed CPU trainer of an affine model (<see cref="StructuredTrainer"/>).</summary>
public sealed class CpuTrainingBackend : IStructuredTrainingBackend
{
    /// <summary>The shared instance.</summary>
    public static CpuTrainingBackend Instance { get; } = new();

    /// <inheritdoc/>
    public IScoreModel Train(Oracle head, ReadOnlySpan<float> features, ReadOnlySpan<float> targets, int featureCount, StructuredTrainerOptions options,
        ReadOnlySpan<float> validationFeatures, ReadOnlySpan<float> validationTargets, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
        => StructuredTrainer.Train(head, features, targets, featureCount, options, validationFeatures, validationTargets, progress, cancellationToken);
}
