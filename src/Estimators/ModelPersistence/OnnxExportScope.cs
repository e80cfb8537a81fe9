namespace Microsoft.ML.Perturbed.Estimators.ModelPersistence;

/// <summary>The settings of one <c>ExportToOnnx</c> call, seen by the components it converts.</summary>
internal sealed class OnnxExportScope(bool scoresOnly)
{
    public bool ScoresOnly { get; } = scoresOnly;

    /// <summary>Output columns the components left out (ML.NET's converter must not list them as graph outputs).</summary>
    public HashSet<string> Dropped { get; } = [];
}
