using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>Thrown when training stops producing finite numbers.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);
