namespace Microsoft.ML.Perturbed.Training;

/// <summary>Thrown when training stops producing finite numbers.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);
