using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// Where the steps of training run: the managed CPU step (<see cref="CpuTrainingBackend"/>, the default) or another
/// backend, such as the TorchSharp one (GPU) in Microsoft.ML.Perturbed.TorchSharp. A backend supplies only the step — the
/// loop itself (epochs, shuffles, seeds, early stopping, progress, divergence checks) is <see cref="StructuredTrainer"/>'s,
/// written once. Whatever the backend, the result is a managed <see cref="IScoreModel"/>, so saved models score without it.
/// </summary>
public interface IStructuredTrainingBackend
{
    /// <summary>Starts a session that fits a model of <paramref name="featureCount"/> inputs and <c>loss.Dimension</c> outputs.</summary>
    /// <param name="oracle">The prediction oracle (a backend may run it on its device).</param>
    /// <param name="loss">The loss to minimize (a backend may use its own device version of the same loss).</param>
    /// <param name="featureCount">Number p of features.</param>
    /// <param name="options">The validated settings.</param>
    internal ITrainingSession Start(Oracle oracle, StructuredLoss loss, int featureCount, StructuredTrainerOptions options);

    /// <summary>
    /// Starts a session for the rows of <paramref name="data"/>; a backend may choose a step made for its rows (the CPU
    /// backend trains the affine model on sparse rows without densifying them). Default: <c>Start(oracle, loss, data.FeatureCount, options)</c>.
    /// </summary>
    internal ITrainingSession Start(Oracle oracle, StructuredLoss loss, TrainingSource data, StructuredTrainerOptions options) =>
        Start(oracle, loss, data.FeatureCount, options);
}
