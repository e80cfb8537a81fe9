namespace Microsoft.ML.Perturbed.Estimators;

/// <summary>Options of <see cref="PerturbedCatalog.ExportToOnnx"/>.</summary>
public sealed class PerturbedOnnxExportOptions
{
    /// <summary>The default <see cref="OpsetVersion"/>: 17.</summary>
    public const int DefaultOpsetVersion = 17;

    /// <summary>The lowest <see cref="OpsetVersion"/>: 12, the opset ML.NET's converter writes its own transforms for.</summary>
    public const int MinOpsetVersion = 12;

    /// <summary>The highest <see cref="OpsetVersion"/>: 17.</summary>
    public const int MaxOpsetVersion = 17;

    /// <summary>
    /// The ONNX opset of the default domain the model is stated at, in [<see cref="MinOpsetVersion"/>,
    /// <see cref="MaxOpsetVersion"/>]; default <see cref="DefaultOpsetVersion"/>. The IR version follows (7 up to opset 14, 8 after).
    /// ML.NET's converter writes its transforms for opset 12; a model whose ML.NET part uses an operator whose definition
    /// changed since is refused at a higher opset, naming the operator.
    /// </summary>
    public int OpsetVersion { get; set; } = DefaultOpsetVersion;

    /// <summary>
    /// For heads whose decoded output ONNX cannot express (assignment, shortest paths, knapsack, a user oracle): export
    /// their <c>Score</c> column θ alone and leave the decoded column out, instead of failing with a
    /// <see cref="NotSupportedException"/> that says what to run downstream. Default false. Other components are not
    /// affected.
    /// </summary>
    public bool ScoresOnly { get; set; }
}
