namespace Microsoft.ML.Perturbed.Estimators.ModelPersistence;

/// <summary>
/// A saved component's identity and format history, as ML.NET's components keep theirs (docs/architecture.md, "Model
/// format versions"): the signatures in the model header, the version triple of this code, and for every format version
/// ever written, which library versions read it. A loader reads every format from <see cref="ModelVersion.ReadBack"/> to
/// <see cref="ModelVersion.Written"/> and refuses the others with one message naming the component, the format found and
/// the library that reads it (<see cref="MlNetInternals.BeginLoad"/>).
/// </summary>
/// <param name="Component">What the component is, in words (e.g. "perturbed predictor").</param>
/// <param name="ModelSignature">The 8-character model signature of the header.</param>
/// <param name="LoaderSignature">The loader signature ML.NET finds the loader by.</param>
/// <param name="Version">The versions of this code.</param>
/// <param name="History">Every format version written, oldest first, with the library versions that read it.</param>
internal sealed record ModelFormat(string Component, string ModelSignature, string LoaderSignature, ModelVersion Version,
    IReadOnlyList<(uint Format, string ReadBy)> History)
{
    /// <summary>The first format whose payload starts with the version of the library that wrote it (0: none).</summary>
    public uint LibraryNamedSince { get; init; }

    /// <summary>Whether a payload of <paramref name="format"/> starts with the writing library's version.</summary>
    public bool NamesLibrary(uint format) => LibraryNamedSince != 0 && format >= LibraryNamedSince;

    /// <summary>The library versions that read <paramref name="format"/>, when the history knows it.</summary>
    public string? ReadBy(uint format) => History.Where(h => h.Format == format).Select(h => h.ReadBy).FirstOrDefault();
}
