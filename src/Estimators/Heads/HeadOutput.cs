using Microsoft.ML.Data;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>One output column of a head: its name, type, annotations and buffer length per row.</summary>
/// <param name="Name">Column name.</param>
/// <param name="Type">Column type.</param>
/// <param name="Annotations">Slot names, key values, or none.</param>
/// <param name="Length">Floats per row in the decode buffer.</param>
internal sealed record HeadOutput(string Name, DataViewType Type, DataViewSchema.Annotations Annotations, int Length);
