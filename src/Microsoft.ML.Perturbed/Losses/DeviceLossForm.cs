namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// What a loss is, for a device backend that has its own version of it (<see cref="StructuredLoss.DeviceForm"/>): the
/// backend reads this description — and the head's <see cref="Oracles.Oracle.DeviceKernel"/> — instead of testing loss
/// and oracle types, and runs the core loss on the host for any loss without one.
/// </summary>
/// <param name="Kind">The loss.</param>
/// <param name="Optimizer">The perturbed optimizer whose settings (ε, M, noise, seed) the perturbed losses use; null for <see cref="DeviceLossKind.SquaredScores"/>.</param>
internal sealed record DeviceLossForm(DeviceLossKind Kind, PerturbedOptimizer? Optimizer = null);
