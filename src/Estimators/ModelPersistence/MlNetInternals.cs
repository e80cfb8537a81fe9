using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.ModelPersistence;

/// <summary>
/// The one place that reaches ML.NET internals, for saving our transformers into ML.NET model zips and loading them
/// back as themselves (ML.NET 5 and 6 offer no public way: see docs/architecture.md, "ML.NET internals"). Everything is checked once, at first use;
/// if a member has moved, every entry point throws a <see cref="NotSupportedException"/> naming the ML.NET version.
/// </summary>
/// <remarks>
/// Saving: <c>ModelSaveContext.CheckAtModel()</c>, <c>SetVersionInfo(VersionInfo)</c> and its <c>Writer</c>.
/// Loading: ML.NET's own <c>[LoadableClass]</c> attributes on this assembly (AccessChecks.cs; the assembly is compiled
/// against publicized ML.NET references, build/Publicizer), whose creators receive the <c>ModelLoadContext</c> and read
/// from its <c>Reader</c> after <c>CheckAtModel()</c> and our own check of the <c>Header</c>'s format versions
/// (<see cref="ModelFormat"/>); <c>RegisterAssembly</c> for explicit registration. All of this is internal: the tests check
/// every member in ML.NET 5 and 6 (MlNetInternalsTests).
/// </remarks>
internal static class MlNetInternals
{
    private const BindingFlags Any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
    private const string LoadContextType = "Microsoft.ML.ModelLoadContext, Microsoft.ML.Core";

    private static readonly Lazy<Members> s_members = new(Resolve, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The ML.NET version this process runs, as reported by Microsoft.ML.Core.</summary>
    public static string MlNetVersion =>
        typeof(ComponentCatalog).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ComponentCatalog).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The environment behind an ML.NET catalog (<c>IInternalCatalog.Environment</c>), e.g. of <c>mlContext.Transforms</c>.</summary>
    public static IHostEnvironment EnvironmentOf(object catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return (IHostEnvironment)Get().CatalogEnvironment.GetValue(catalog)!;
    }

    /// <summary>Registers an assembly's <c>[LoadableClass]</c> components with a catalog (ML.NET's internal, idempotent <c>RegisterAssembly</c>).</summary>
    public static void RegisterAssembly(ComponentCatalog catalog, Assembly assembly) => catalog.RegisterAssembly(assembly);

    /// <summary>The shape of a schema (<c>SchemaShape.Create</c>, internal): how estimators describe output columns.</summary>
    public static SchemaShape ShapeOf(DataViewSchema schema)
    {
        Get();
        return CreateShape(null, schema);
    }

    [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "Create")]
    private static extern SchemaShape CreateShape(SchemaShape? declaringType, DataViewSchema schema);

    /// <summary>ML.NET's score-column kind of multiclass classification (<c>AnnotationUtils.Const.ScoreColumnKind</c>, internal).</summary>
    public const string MulticlassScoreColumnKind = AnnotationUtils.Const.ScoreColumnKind.MulticlassClassification;

    /// <summary>ML.NET's score-column kind of regression (<c>AnnotationUtils.Const.ScoreColumnKind</c>, internal).</summary>
    public const string RegressionScoreColumnKind = AnnotationUtils.Const.ScoreColumnKind.Regression;

    /// <summary>ML.NET's score-value kind of a scores column (<c>AnnotationUtils.Const.ScoreValueKind.Score</c>, internal).</summary>
    public const string ScoreValueKind = AnnotationUtils.Const.ScoreValueKind.Score;

    /// <summary>ML.NET's score-value kind of a prediction column (<c>AnnotationUtils.Const.ScoreValueKind.PredictedLabel</c>, internal).</summary>
    public const string PredictedValueKind = AnnotationUtils.Const.ScoreValueKind.PredictedLabel;

    /// <summary>
    /// <paramref name="own"/> plus the annotations ML.NET's scorers put on every column they append (internal
    /// <c>AnnotationUtils</c>): <c>ScoreColumnSetId</c> (one more than the largest in <paramref name="inputSchema"/>, so
    /// a second scorer's columns form their own set), <c>ScoreColumnKind</c> and <c>ScoreValueKind</c>.
    /// </summary>
    public static DataViewSchema.Annotations ScorerAnnotations(DataViewSchema inputSchema, DataViewSchema.Annotations own, string columnKind, string valueKind)
    {
        uint setId = inputSchema.GetMaxAnnotationKind(out _, AnnotationUtils.Kinds.ScoreColumnSetId) + 1;
        var builder = new DataViewSchema.Annotations.Builder();
        builder.Add(own, _ => true);
        builder.Add(AnnotationUtils.Kinds.ScoreColumnSetId, AnnotationUtils.ScoreColumnSetIdType, (ref uint v) => v = setId);
        builder.Add(AnnotationUtils.Kinds.ScoreColumnKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = columnKind.AsMemory());
        builder.Add(AnnotationUtils.Kinds.ScoreValueKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = valueKind.AsMemory());
        return builder.ToAnnotations();
    }

    /// <summary>Whether <c>MLContext.CancelExecution()</c> was called for the environment of <paramref name="host"/> (internal <c>ICancelable.IsCanceled</c>).</summary>
    public static bool IsCanceled(IHost host) => (bool)Get().IsCanceled.GetValue(host)!;

    /// <summary>The version of this library (its informational version without the source revision).</summary>
    public static string LibraryVersion { get; } =
        (typeof(MlNetInternals).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(MlNetInternals).Assembly.GetName().Version?.ToString() ?? "unknown").Split('+')[0];

    /// <summary>
    /// Writes the model header's version information and returns a writer for the component's payload, which starts with
    /// this library's version when the format names it. Disposing the writer writes the payload to the model as (length,
    /// bytes, SHA-256 of the bytes), so that a load detects any changed byte.
    /// </summary>
    public static BinaryWriter BeginSave(ModelSaveContext ctx, ModelFormat format)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(format);
        Members m = Get();
        CheckAtModel(ctx);
        m.SetVersionInfo.Invoke(ctx, [VersionInfo(m, format.ModelSignature, format.Version, format.LoaderSignature)]);
        var writer = new ChecksummedWriter(SaveWriter(ctx));
        if (format.NamesLibrary(format.Version.Written)) writer.Write(LibraryVersion);
        return writer;
    }

    /// <summary>Buffers a payload and, on dispose, writes it with its length and SHA-256 to the model's writer.</summary>
    private sealed class ChecksummedWriter(BinaryWriter target) : BinaryWriter(new MemoryStream())
    {
        private bool _written;

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_written)
            {
                _written = true;
                Flush();
                byte[] payload = ((MemoryStream)OutStream).ToArray();
                target.Write((long)payload.Length);
                target.Write(payload);
                target.Write(System.Security.Cryptography.SHA256.HashData(payload));
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>Reads a payload written by <see cref="ChecksummedWriter"/> and checks its SHA-256.</summary>
    /// <exception cref="FormatException">The payload is truncated or a byte of it changed.</exception>
    private static BinaryReader ReadChecksummed(BinaryReader source, string loaderSignature)
    {
        try
        {
            long length = source.ReadInt64();
            if (length < 0 || length > int.MaxValue) throw new FormatException($"The saved '{loaderSignature}' model is corrupt: its payload claims {length} bytes.");
            byte[] payload = source.ReadBytes((int)length);
            byte[] hash = source.ReadBytes(32);
            if (payload.Length != length || hash.Length != 32) throw new FormatException($"The saved '{loaderSignature}' model is truncated.");
            if (!System.Security.Cryptography.SHA256.HashData(payload).AsSpan().SequenceEqual(hash))
            {
                throw new FormatException($"The saved '{loaderSignature}' model is corrupt: its checksum does not match its contents (the file was changed or damaged after it was saved).");
            }
            return new BinaryReader(new MemoryStream(payload, writable: false));
        }
        catch (EndOfStreamException e)
        {
            throw new FormatException($"The saved '{loaderSignature}' model is truncated.", e);
        }
    }

    /// <summary>
    /// Checks the model header against the component's signature and the format versions this code reads, and returns the
    /// payload's reader (after the writing library's version, when the format names it) and the format version found.
    /// </summary>
    /// <exception cref="FormatException">The model is of another kind, of a format this code does not read (the message
    /// names the component, the format found and the library that reads it), or corrupt.</exception>
    public static BinaryReader BeginLoad(ModelLoadContext ctx, ModelFormat format, out uint formatVersion)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(format);
        Get();
        LoadCheckAtModel(ctx);
        (string signature, uint written, uint readable) = Header(ctx);
        if (signature != format.ModelSignature)
        {
            throw new FormatException($"The saved '{format.LoaderSignature}' model is not a {format.Component}: its header's signature is '{signature}', expected '{format.ModelSignature}'.");
        }
        formatVersion = written;
        ModelVersion ours = format.Version;
        if (readable > ours.Written)
        {
            // A newer format: its payload still starts with the library that wrote it (the convention since LibraryNamedSince).
            string? writer = null;
            if (format.NamesLibrary(written))
            {
                try { writer = ReadChecksummed(LoadReader(ctx), format.LoaderSignature).ReadString(); }
                catch (Exception e) when (e is FormatException or EndOfStreamException) { writer = null; }
            }
            throw new FormatException(
                $"Cannot load the {format.Component} ('{format.LoaderSignature}'): it was saved in format version 0x{written:X8} " +
                $"by {(writer is null ? "a newer Microsoft.ML.Perturbed" : $"Microsoft.ML.Perturbed {writer}")}, which needs a reader of format 0x{readable:X8}; " +
                $"this Microsoft.ML.Perturbed {LibraryVersion} reads formats 0x{ours.ReadBack:X8} to 0x{ours.Written:X8}. " +
                $"Load it with Microsoft.ML.Perturbed {writer ?? "of the version that saved it"} or later.");
        }
        if (written < ours.ReadBack)
        {
            throw new FormatException(
                $"Cannot load the {format.Component} ('{format.LoaderSignature}'): it was saved in format version 0x{written:X8}, " +
                $"which {format.ReadBy(written) ?? "an earlier Microsoft.ML.Perturbed"} reads; this Microsoft.ML.Perturbed {LibraryVersion} " +
                $"reads formats 0x{ours.ReadBack:X8} to 0x{ours.Written:X8}. Retrain the model, or load it with the version that saved it.");
        }
        BinaryReader reader = ReadChecksummed(LoadReader(ctx), format.LoaderSignature);
        if (format.NamesLibrary(written))
        {
            try { reader.ReadString(); }
            catch (EndOfStreamException e) { throw new FormatException($"The saved '{format.LoaderSignature}' model is truncated.", e); }
        }
        return reader;
    }

    /// <summary>The model header's signature and format versions (ML.NET's internal <c>ModelLoadContext.Header</c>).</summary>
    public static (string Signature, uint Written, uint Readable) Header(ModelLoadContext ctx)
    {
        ulong raw = ctx.Header.ModelSignature;
        var chars = new char[8];
        for (int i = 0; i < 8; i++) chars[i] = (char)((raw >> (8 * i)) & 0xFF);
        return (new string(chars).TrimEnd('\0'), ctx.Header.ModelVerWritten, ctx.Header.ModelVerReadable);
    }

    // The header needs a loader assembly name (ML.NET cannot read its own header back without one). The simple name
    // makes ML.NET load whichever version of this assembly is installed, rather than demand the exact one that saved.
    private static readonly string s_loaderAssembly = typeof(MlNetInternals).Assembly.GetName().Name!;

    private static object VersionInfo(Members m, string modelSignature, ModelVersion version, string loaderSignature) =>
        m.VersionInfoCtor.Invoke([modelSignature, version.Written, version.Readable, version.ReadBack, s_loaderAssembly, loaderSignature, null]);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "CheckAtModel")]
    private static extern void CheckAtModel(ModelSaveContext ctx);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "Writer")]
    private static extern ref BinaryWriter SaveWriterField(ModelSaveContext ctx);

    private static BinaryWriter SaveWriter(ModelSaveContext ctx) => SaveWriterField(ctx);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "CheckAtModel")]
    private static extern void LoadCheckAtModel([UnsafeAccessorType(LoadContextType)] object ctx);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "Reader")]
    private static extern ref BinaryReader LoadReaderField([UnsafeAccessorType(LoadContextType)] object ctx);

    private static BinaryReader LoadReader(object ctx) => LoadReaderField(ctx);

    private static Members Get()
    {
        try
        {
            return s_members.Value;
        }
        catch (Exception e) when (e is not NotSupportedException)
        {
            throw Unsupported(e.Message, e);
        }
    }

    private static NotSupportedException Unsupported(string what, Exception? inner = null) => new(
        $"Microsoft.ML.Perturbed saves and loads its transformers through ML.NET internals that it was built against (Microsoft.ML 5.0.1), " +
        $"but this process runs Microsoft.ML {MlNetVersion}, where {what} Use Microsoft.ML [5.0.1, 5.1).", inner);

    /// <summary>Finds every internal member once; a missing one makes all calls fail with a clear message.</summary>
    private static Members Resolve()
    {
        Assembly core = typeof(ComponentCatalog).Assembly;
        Type Need(string name) => core.GetType(name) ?? throw Unsupported($"the internal type '{name}' is missing.");
        T NeedMember<T>(T? member, string name) where T : MemberInfo => member ?? throw Unsupported($"the internal member '{name}' is missing.");

        Type versionInfo = Need("Microsoft.ML.VersionInfo");
        Type loadContext = Need("Microsoft.ML.ModelLoadContext");
        Type signature = Need("Microsoft.ML.SignatureLoadModel");
        Type attributeBase = Need("Microsoft.ML.LoadableClassAttributeBase");
        Type attribute = Need("Microsoft.ML.LoadableClassAttribute");
        Type info = NeedMember(typeof(ComponentCatalog).GetNestedType("LoadableClassInfo", Any), "ComponentCatalog.LoadableClassInfo");
        var members = new Members
        {
            SignatureLoadModel = signature,
            VersionInfoCtor = NeedMember(versionInfo.GetConstructor(Any, [typeof(string), typeof(uint), typeof(uint), typeof(uint), typeof(string), typeof(string), typeof(string)]), "VersionInfo(..)"),
            SetVersionInfo = NeedMember(typeof(ModelSaveContext).GetMethod("SetVersionInfo", Any, [versionInfo]), "ModelSaveContext.SetVersionInfo"),
            AttributeCtor = NeedMember(attribute.GetConstructor(Any, [typeof(Type), typeof(Type), typeof(Type), typeof(Type), typeof(string), typeof(string[])]), "LoadableClassAttribute(..)"),
            InfoCtor = NeedMember(info.GetConstructor(Any, [attributeBase, typeof(MethodInfo), typeof(ConstructorInfo), typeof(MethodInfo), typeof(bool)]), "LoadableClassInfo(..)"),
            AddClass = NeedMember(typeof(ComponentCatalog).GetMethod("AddClass", Any), "ComponentCatalog.AddClass"),
            GetLoadableClassInfo = NeedMember(typeof(ComponentCatalog).GetMethod("GetLoadableClassInfo", Any, [typeof(string), typeof(Type)]), "ComponentCatalog.GetLoadableClassInfo"),
            Lock = NeedMember(typeof(ComponentCatalog).GetField("_lock", Any), "ComponentCatalog._lock"),
            IsCanceled = NeedMember(core.GetType("Microsoft.ML.Runtime.ICancelable")?.GetProperty("IsCanceled", Any), "ICancelable.IsCanceled"),
            CatalogEnvironment = NeedMember(typeof(TransformsCatalog).Assembly.GetType("Microsoft.ML.Data.IInternalCatalog")?.GetProperty("Environment", Any), "IInternalCatalog.Environment"),
        };
        // The UnsafeAccessor members fail only when called; probe that they exist now.
        NeedMember(typeof(ModelSaveContext).GetMethod("CheckAtModel", Any, Type.EmptyTypes), "ModelSaveContext.CheckAtModel");
        NeedMember(typeof(ModelSaveContext).GetField("Writer", Any), "ModelSaveContext.Writer");
        NeedMember(loadContext.GetMethod("CheckAtModel", Any, Type.EmptyTypes), "ModelLoadContext.CheckAtModel");
        NeedMember(loadContext.GetField("Reader", Any), "ModelLoadContext.Reader");
        NeedMember(typeof(SchemaShape).GetMethod("Create", Any, [typeof(DataViewSchema)]), "SchemaShape.Create");
        return members;
    }

    private sealed class Members
    {
        public required Type SignatureLoadModel { get; init; }
        public required ConstructorInfo VersionInfoCtor { get; init; }
        public required MethodInfo SetVersionInfo { get; init; }
        public required ConstructorInfo AttributeCtor { get; init; }
        public required ConstructorInfo InfoCtor { get; init; }
        public required MethodInfo AddClass { get; init; }
        public required MethodInfo GetLoadableClassInfo { get; init; }
        public required FieldInfo Lock { get; init; }
        public required PropertyInfo CatalogEnvironment { get; init; }
        public required PropertyInfo IsCanceled { get; init; }
    }
}
