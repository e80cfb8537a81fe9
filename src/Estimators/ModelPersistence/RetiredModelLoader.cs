using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.ModelPersistence;

/// <summary>
/// The loader of components that earlier versions saved under loader signatures this version no longer writes (the
/// label-ranking, multiclass and structured transformers before they became one <see cref="PerturbedPredictionTransformer"/>,
/// commit 6ede5a7). Registered so that such a model fails with the component, its format version and the library that
/// reads it, rather than with ML.NET's "Couldn't load model" or "Error during class instantiation".
/// </summary>
internal static class RetiredModelLoader
{
    private const string ReadBy = "Microsoft.ML.Perturbed 0.1.0 before commit 6ede5a7 only";

    /// <summary>The retired formats, by loader signature.</summary>
    internal static readonly IReadOnlyDictionary<string, ModelFormat> Formats = new[]
    {
        Retired("label-ranking predictor", "PRTBLRNK", "PerturbedLabelRanking"),
        Retired("multiclass predictor", "PRTBMCLS", "PerturbedMulticlass"),
        Retired("structured predictor", "PRTBSTRC", "PerturbedStructured"),
    }.ToDictionary(f => f.LoaderSignature);

    // Written 0x00010001 (no checksum) and 0x00010002 (checksummed); this code reads none of them.
    private static ModelFormat Retired(string component, string modelSignature, string loaderSignature) =>
        new(component, modelSignature, loaderSignature, new ModelVersion(Written: 0, Readable: 0, ReadBack: 0),
            [(0x00010001, ReadBy), (0x00010002, ReadBy)]);

    /// <summary>The loader ML.NET calls for a retired signature: always refuses, naming what reads the model.</summary>
    /// <exception cref="FormatException">Always.</exception>
    internal static PerturbedPredictionTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        (string signature, uint written, _) = MlNetInternals.Header(ctx);
        ModelFormat? format = Formats.Values.FirstOrDefault(f => f.ModelSignature == signature);
        string component = format?.Component ?? "perturbed predictor";
        string loader = format?.LoaderSignature ?? signature;
        throw new FormatException(
            $"Cannot load the {component} ('{loader}'): it was saved in format version 0x{written:X8}, which " +
            $"{format?.ReadBy(written) ?? ReadBy} reads; this Microsoft.ML.Perturbed {MlNetInternals.LibraryVersion} reads " +
            $"'{PerturbedPredictionTransformer.LoaderSignature}' models (formats 0x{PerturbedPredictionTransformer.Format.Version.ReadBack:X8} to " +
            $"0x{PerturbedPredictionTransformer.Format.Version.Written:X8}). Retrain the model, or load it with the version that saved it.");
    }
}
