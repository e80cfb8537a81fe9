namespace Microsoft.ML.Perturbed.Estimators.ModelPersistence;

/// <summary>
/// A component's version triple, as ML.NET's own components keep it: the format it writes, the oldest reader that can read
/// that format, and the oldest format it can read back.
/// </summary>
/// <param name="Written">The format version written now.</param>
/// <param name="Readable">The oldest version of the code that can read what is written now.</param>
/// <param name="ReadBack">The oldest format this code reads.</param>
internal readonly record struct ModelVersion(uint Written, uint Readable, uint ReadBack);
