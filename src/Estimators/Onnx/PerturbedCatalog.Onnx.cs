using Microsoft.ML.Perturbed.Estimators;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;

namespace Microsoft.ML;

// Part of PerturbedCatalog: ONNX export of pipelines with this library's models and transforms (docs/architecture.md, "ONNX export").
public static partial class PerturbedCatalog
{
    /// <summary>
    /// Writes <paramref name="model"/> — a trained predictor, a hard sorting transform, or a pipeline of them with ML.NET
    /// transforms in front (normalizers, concatenation…) — as one ONNX model at <see cref="PerturbedOnnxExportOptions.OpsetVersion"/>
    /// (default 17). ML.NET's converter writes its transforms and ours write themselves into the same graph; inputs are the
    /// columns of <paramref name="inputData"/>'s schema, outputs every column of the result named <c>column.output</c>, as
    /// <c>mlContext.Model.ConvertToOnnx</c> names them and <c>mlContext.Transforms.ApplyOnnxModel</c> reads them, with a
    /// symbolic batch dimension.
    /// </summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">The fitted model.</param>
    /// <param name="inputData">Data (or an empty view) of the schema the model reads; only its schema is used.</param>
    /// <param name="stream">Where the ONNX model is written.</param>
    /// <param name="options">Opset and scores-only export; null: the defaults.</param>
    /// <exception cref="NotSupportedException">A component has no exact ONNX form (the message says why and what to do instead), or
    /// a transform of the pipeline cannot save itself as ONNX at all (a custom mapping, for one): the message names its type and
    /// its position in the chain.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="PerturbedOnnxExportOptions.OpsetVersion"/> is out of range.</exception>
    public static void ExportToOnnx(this ModelOperationsCatalog catalog, ITransformer model, IDataView inputData, Stream stream,
        PerturbedOnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputData);
        ArgumentNullException.ThrowIfNull(stream);
        options ??= new PerturbedOnnxExportOptions();
        if (options.OpsetVersion < PerturbedOnnxExportOptions.MinOpsetVersion || options.OpsetVersion > PerturbedOnnxExportOptions.MaxOpsetVersion)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.OpsetVersion,
                $"'{nameof(PerturbedOnnxExportOptions.OpsetVersion)}' must be in [{PerturbedOnnxExportOptions.MinOpsetVersion}, {PerturbedOnnxExportOptions.MaxOpsetVersion}], got {options.OpsetVersion}.");
        }
        MlNetOnnx.Export(catalog, model, inputData, stream, options.OpsetVersion, options.ScoresOnly);
    }
}
