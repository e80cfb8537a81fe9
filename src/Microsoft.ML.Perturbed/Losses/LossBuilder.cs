using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>Builds a built-in loss over a head from checked options and the task loss in force.</summary>
/// <param name="head">The prediction head.</param>
/// <param name="options">The validated loss settings.</param>
/// <param name="taskLoss">The task loss in force (<see cref="LossDescriptor.EffectiveTaskLoss"/>); losses without one ignore it.</param>
internal delegate StructuredLoss LossBuilder(Oracle head, StructuredLossOptions options, TaskLoss taskLoss);
