using System.Reflection;
using System.Runtime.ExceptionServices;

// Extension methods in ML.NET's own namespace (see PerturbedCatalog.cs).
namespace Microsoft.ML;

// Part of PerturbedCatalog: Loading a model zip with its failure reported as itself. ML.NET creates every saved component by reflection, so a
// component's clear refusal ("the payload's checksum does not match its contents", "format 0x… is newer than …") reaches
// <c>mlContext.Model.Load</c>'s caller wrapped in a <see cref="TargetInvocationException"/>, and a corrupted loader-assembly
// name in ML.NET's own header surfaces as a <see cref="FileNotFoundException"/> for an assembly nobody referenced.
// <see cref="LoadChecked(ModelOperationsCatalog, Stream, out DataViewSchema)"/> is <c>Load</c> with those two unwrapped
// (docs/architecture.md, "Model format versions").
public static partial class PerturbedCatalog
{
    /// <summary>
    /// <c>mlContext.Model.Load(stream, out inputSchema)</c>, with a component's own exception rethrown as itself (not inside a
    /// <see cref="TargetInvocationException"/>) and a loader assembly that cannot be found reported as a corrupt or foreign model.
    /// </summary>
    /// <param name="catalog">The context's model catalog (<c>mlContext.Model</c>).</param>
    /// <param name="stream">The model zip.</param>
    /// <param name="inputSchema">The schema the model was trained on.</param>
    /// <exception cref="FormatException">The file is corrupt, foreign, or of a format this version does not read (the message says which).</exception>
    public static ITransformer LoadChecked(this ModelOperationsCatalog catalog, Stream stream, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            return catalog.Load(stream, out inputSchema);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            Exception inner = e.InnerException;
            while (inner is TargetInvocationException { InnerException: { } deeper }) inner = deeper;
            ExceptionDispatchInfo.Capture(inner).Throw();
            throw;   // not reached
        }
        catch (FileNotFoundException e)
        {
            throw new FormatException($"The model file is corrupt or was not written by ML.NET: its header names a loader assembly that cannot be found ({e.FileName ?? e.Message}).", e);
        }
    }

    /// <summary><see cref="LoadChecked(ModelOperationsCatalog, Stream, out DataViewSchema)"/> from a file.</summary>
    /// <param name="catalog">The context's model catalog (<c>mlContext.Model</c>).</param>
    /// <param name="filePath">The model zip's path.</param>
    /// <param name="inputSchema">The schema the model was trained on.</param>
    public static ITransformer LoadChecked(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(filePath);
        using FileStream stream = File.OpenRead(filePath);
        return catalog.LoadChecked(stream, out inputSchema);
    }
}
