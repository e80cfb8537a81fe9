namespace Microsoft.ML.Perturbed.Tests.Data;

/// <summary>The tests that measure the process's live memory: run with no other test in parallel.</summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;
