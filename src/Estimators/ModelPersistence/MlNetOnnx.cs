using System.Runtime.CompilerServices;
using Google.Protobuf;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using static Microsoft.ML.Model.OnnxConverter.OnnxCSharpToProtoWrapper;

namespace Microsoft.ML.Perturbed.Estimators.ModelPersistence;

/// <summary>ONNX tensor element types (TensorProto.DataType of the ONNX specification) that our graphs use.</summary>
internal enum OnnxType : long
{
    /// <summary>float32.</summary>
    Float = 1,

    /// <summary>int64.</summary>
    Int64 = 7,

    /// <summary>float64.</summary>
    Double = 11,

    /// <summary>uint32 (ML.NET's key values).</summary>
    UInt32 = 12,
}

/// <summary>
/// Our components' side of ML.NET's ONNX converter (docs/architecture.md, "ONNX export"): a thin builder over ML.NET's
/// internal <c>OnnxContext</c>, through which every exportable transformer writes its nodes into the graph that ML.NET's
/// converter assembles for the whole pipeline. Variables are ONNX value names; columns are ML.NET column names.
/// </summary>
internal sealed class OnnxGraph
{
    /// <summary>The lowest opset our nodes are written for (Equal on floats, ScatterElements, TopK with a K input).</summary>
    public const int MinimumOpset = 11;

    private static readonly ConditionalWeakTable<OnnxContext, OnnxExportScope> s_scopes = new();

    private readonly OnnxContext _ctx;
    private readonly OnnxExportScope? _scope;

    private OnnxGraph(OnnxContext ctx, OnnxExportScope? scope)
    {
        _ctx = ctx;
        _scope = scope;
    }

    /// <summary>The builder for ML.NET's context (with the settings of <c>ExportToOnnx</c>, when it runs the conversion).</summary>
    public static OnnxGraph For(OnnxContext ctx, string component)
    {
        ctx.CheckOpSetVersion(MinimumOpset, component);
        return new OnnxGraph(ctx, s_scopes.TryGetValue(ctx, out OnnxExportScope? scope) ? scope : null);
    }

    internal static void Attach(OnnxContext ctx, OnnxExportScope scope) => s_scopes.Add(ctx, scope);

    /// <summary>Whether heads whose decoded output ONNX cannot express export their scores only (instead of failing).</summary>
    public bool ScoresOnly => _scope?.ScoresOnly ?? false;

    /// <summary>The variable holding input column <paramref name="column"/>.</summary>
    public string Input(string column) => _ctx.GetVariableName(column);

    /// <summary>A double initializer of shape <paramref name="dims"/>.</summary>
    public string Constant(IEnumerable<double> values, params long[] dims) => _ctx.AddInitializer(values, dims, "perturbed.c", true);

    /// <summary>A float initializer of shape <paramref name="dims"/>.</summary>
    public string Constant(IEnumerable<float> values, params long[] dims) => _ctx.AddInitializer(values, dims, "perturbed.c", true);

    /// <summary>An int64 initializer of shape <paramref name="dims"/>.</summary>
    public string Constant(IEnumerable<long> values, params long[] dims) => _ctx.AddInitializer(values, dims, "perturbed.c", true);

    /// <summary>One node of the default domain with one output; attribute values are long, long[] or double.</summary>
    public string Node(string op, string[] inputs, params (string Name, object Value)[] attributes) => Node(op, inputs, 1, attributes)[0];

    /// <summary>One node of the default domain with <paramref name="outputs"/> outputs.</summary>
    public string[] Node(string op, string[] inputs, int outputs, params (string Name, object Value)[] attributes)
    {
        var names = new string[outputs];
        for (int i = 0; i < outputs; i++) names[i] = _ctx.AddIntermediateVariable(null, "perturbed." + op, true);
        OnnxNode node = _ctx.CreateNode(op, inputs, names, _ctx.GetNodeName("perturbed." + op), "");
        foreach ((string name, object value) in attributes)
        {
            switch (value)
            {
                case long l: node.AddAttribute(name, l); break;
                case long[] ls: node.AddAttribute(name, ls); break;
                case double d: node.AddAttribute(name, d); break;
                default: throw new ArgumentOutOfRangeException(nameof(attributes), value, $"Unsupported ONNX attribute value for '{name}'.");
            }
        }
        return names;
    }

    /// <summary>Casts <paramref name="variable"/> to <paramref name="type"/>.</summary>
    public string Cast(string variable, OnnxType type) => Node("Cast", [variable], ("to", (long)type));

    /// <summary>
    /// The <paramref name="k"/> largest (or smallest) entries of each row of a [batch × d] tensor, sorted, with their int64
    /// indices; equal entries come in increasing index order (ONNX's TopK rule, the tie rule of our oracles).
    /// </summary>
    public (string Values, string Indices) TopK(string x, int k, bool largest)
    {
        string[] outputs = Node("TopK", [x, Constant([(long)k], 1)], 2, ("axis", 1L), ("largest", largest ? 1L : 0L), ("sorted", 1L));
        return (outputs[0], outputs[1]);
    }

    /// <summary>Each row of <paramref name="data"/> with <paramref name="row"/> (float, one value per index column) written at <paramref name="indices"/>.</summary>
    public string ScatterRow(string data, string indices, float[] row)
    {
        string updates = Node("Expand", [Constant(row, 1, row.Length), Node("Shape", [indices])]);
        return Node("ScatterElements", [data, indices, updates], ("axis", 1L));
    }

    /// <summary>Makes <paramref name="variable"/> the value of output column <paramref name="column"/> of ML.NET type <paramref name="type"/>.</summary>
    public void Output(string column, DataViewType type, string variable)
    {
        string name = _ctx.AddIntermediateVariable(type, column, false);
        _ctx.CreateNode("Identity", [variable], [name], _ctx.GetNodeName("perturbed.Identity"), "");
    }

    /// <summary>An extra graph output (not an ML.NET column) of element type int64 and shape [batch, <paramref name="size"/>].</summary>
    public void ExtraOutput(string name, string variable, int size)
    {
        string output = _ctx.AddIntermediateVariable(null, name, true);
        _ctx.CreateNode("Identity", [variable], [output], _ctx.GetNodeName("perturbed.Identity"), "");
        ((OnnxContextImpl)_ctx).AddOutputVariable(new VectorDataViewType(NumberDataViewType.Int64, size), output, [size]);   // ML.NET prepends the batch dimension
    }

    /// <summary>Leaves output column <paramref name="column"/> out of the model (a head exporting its scores only).</summary>
    public void Skip(string column)
    {
        if (_scope is null || !_scope.ScoresOnly) throw new InvalidOperationException("Only a scores-only export leaves columns out.");
        _scope.Dropped.Add(column);
    }
}

/// <summary>The settings of one <c>ExportToOnnx</c> call, seen by the components it converts.</summary>
internal sealed class OnnxExportScope(bool scoresOnly)
{
    public bool ScoresOnly { get; } = scoresOnly;

    /// <summary>Output columns the components left out (ML.NET's converter must not list them as graph outputs).</summary>
    public HashSet<string> Dropped { get; } = [];
}

/// <summary>ML.NET's ONNX converter driven for <c>ExportToOnnx</c>: conversion at ML.NET's opset, then the model restated at the requested opset.</summary>
internal static class MlNetOnnx
{
    /// <summary>The highest opset ML.NET's converter (Microsoft.ML.OnnxConverter 0.23.1) writes.</summary>
    public const int ConverterOpset = 12;

    /// <summary>
    /// Operators of the default domain whose definition did not change from opset 12 to 17 except by new element types or
    /// new attributes whose defaults keep the opset-12 behaviour (ONNX's operator change log): a model made of these means
    /// the same at every opset in [12, 17]. Softmax, ReduceSum, Squeeze, Unsqueeze, Split and Pad, among others, changed.
    /// </summary>
    private static readonly HashSet<string> s_stable =
    [
        "Abs", "Add", "And", "ArgMax", "ArgMin", "Cast", "Ceil", "Clip", "Concat", "Constant", "ConstantOfShape", "Div", "Equal", "Exp",
        "Expand", "Flatten", "Floor", "Gather", "GatherElements", "Gemm", "Greater", "GreaterOrEqual", "Identity", "Less", "LessOrEqual",
        "Log", "MatMul", "Max", "Mean", "Min", "Mul", "Neg", "Not", "Or", "Pow", "Range", "ReduceMax", "ReduceMin", "Relu", "Reshape",
        "Round", "ScatterElements", "Shape", "Sigmoid", "Sign", "Slice", "Sqrt", "Sub", "Sum", "Tanh", "Tile", "TopK", "Transpose", "Where",
    ];

    /// <summary>Converts <paramref name="model"/> applied to <paramref name="inputData"/> and writes the ONNX model at <paramref name="opset"/>.</summary>
    public static void Export(object catalog, ITransformer model, IDataView inputData, Stream stream, int opset, bool scoresOnly)
    {
        IHostEnvironment env = MlNetInternals.EnvironmentOf(catalog);
        var ctx = new OnnxContextImpl(env, "model", "ML.NET", "0", 0, "machinelearning.dotnet", OnnxVersion.Stable, ConverterOpset);
        var scope = new OnnxExportScope(scoresOnly);
        OnnxGraph.Attach(ctx, scope);
        // The chain applied step by step (as TransformerChain.Transform does), keeping each step's output view, so a view
        // the converter stops at can be traced to its step.
        List<ITransformer> steps = Steps(model);
        var views = new IDataView[steps.Count + 1];
        views[0] = inputData;
        for (int k = 0; k < steps.Count; k++) views[k + 1] = steps[k].Transform(views[k]);
        IDataView output = views[^1];
        ModelProto proto;
        using (IChannel ch = env.Start("ONNX export"))
        {
            SaveOnnxCommand.GetPipe(ctx, ch, output, out IDataView root, out IDataView sink, out LinkedList<ITransformCanSaveOnnx> transforms);
            // ML.NET's walk back stops (with a logged warning) at a step that cannot save itself and keeps only the steps after it.
            if (transforms.Count == 0 ? !ReferenceEquals(sink, root) : !ReferenceEquals(transforms.First!.Value.Source, root))
            {
                throw Unconvertible(steps, views, transforms.Count == 0 ? sink : transforms.First!.Value.Source);
            }
            // Columns are dropped while the components write themselves, so the set is filled in place.
            proto = SaveOnnxCommand.ConvertTransformListToOnnxModel(ctx, ch, root, sink, transforms, null, scope.Dropped);
        }
        Restate(proto, opset);
        proto.WriteTo(stream);
    }

    /// <summary>The transformers of <paramref name="model"/> in the order they run, nested chains opened.</summary>
    private static List<ITransformer> Steps(ITransformer model) =>
        model is IEnumerable<ITransformer> chain ? chain.SelectMany(Steps).ToList() : [model];

    /// <summary>
    /// The refusal for a pipeline whose data view <paramref name="stop"/> cannot save itself as ONNX: names the step that
    /// made it (type and position in the chain) and what the converter expects of a step.
    /// </summary>
    private static NotSupportedException Unconvertible(List<ITransformer> steps, IDataView[] views, IDataView stop)
    {
        string why = $"its data view ({TypeName(stop.GetType())}) does not implement ML.NET's ONNX saving (ICanSaveOnnx) or declines at opset {ConverterOpset}";
        string expected = "Expected transforms that can save themselves as ONNX (ML.NET's converter walks the pipeline back from its end and cannot go past this one); "
            + "run this transform in .NET before or after the exported model, or replace it with one that converts.";
        for (int k = steps.Count - 1; k >= 0; k--)
        {
            // Step k's own views lie between its output and its input.
            for (IDataView? view = views[k + 1]; view is not null && !ReferenceEquals(view, views[k]); view = (view as IDataTransform)?.Source)
            {
                if (ReferenceEquals(view, stop))
                {
                    return new NotSupportedException(
                        $"Transform {k + 1} of {steps.Count} in the pipeline, {TypeName(steps[k].GetType())}, cannot be converted to ONNX: {why}. {expected}");
                }
            }
        }
        return new NotSupportedException($"A transform of the pipeline cannot be converted to ONNX: {why}. {expected}");
    }

    /// <summary>A type's name as C# writes it (generic arguments included, without the arity suffix).</summary>
    private static string TypeName(Type type)
    {
        if (!type.IsGenericType) return type.Name;
        string name = type.Name;
        int tick = name.IndexOf('`');
        return $"{(tick < 0 ? name : name[..tick])}<{string.Join(", ", type.GetGenericArguments().Select(TypeName))}>";
    }

    /// <summary>The header facts of a serialized ONNX model: IR version, opset per domain, graph inputs and outputs, symbolic batch dimensions.</summary>
    internal static (long IrVersion, IReadOnlyDictionary<string, long> Opsets, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyList<string> BatchDims) Describe(byte[] model)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(model);
        return (proto.IrVersion, proto.OpsetImport.ToDictionary(o => o.Domain, o => o.Version),
            proto.Graph.Input.Select(i => i.Name).ToArray(), proto.Graph.Output.Select(o => o.Name).ToArray(),
            proto.Graph.Input.Concat(proto.Graph.Output).Select(v => v.Type?.TensorType?.Shape?.Dim.FirstOrDefault()?.DimParam ?? "").ToArray());
    }

    /// <summary>States the model at <paramref name="opset"/> (IR version to match) after checking that every operator means the same there; batch dimensions become a named symbolic dimension.</summary>
    private static void Restate(ModelProto proto, int opset)
    {
        if (opset != ConverterOpset)
        {
            foreach (NodeProto node in proto.Graph.Node)
            {
                if (node.Domain is "" or "ai.onnx" && !s_stable.Contains(node.OpType))
                {
                    throw new NotSupportedException($"ML.NET's converter wrote the operator '{node.OpType}' (node '{node.Name}') for opset {ConverterOpset}; its definition changed by opset {opset}, so the model cannot be restated there. Export with OpsetVersion = {ConverterOpset}.");
                }
            }
        }
        foreach (OperatorSetIdProto import in proto.OpsetImport)
        {
            if (import.Domain is "" or "ai.onnx") import.Version = opset;
        }
        proto.IrVersion = opset <= 14 ? 7 : 8;   // ONNX 1.7–1.9 (opsets 12–14): IR 7; ONNX 1.10–1.12 (opsets 15–17): IR 8
        foreach (ValueInfoProto value in proto.Graph.Input.Concat(proto.Graph.Output).Concat(proto.Graph.ValueInfo))
        {
            if (value.Type?.TensorType?.Shape is { } shape && shape.Dim.Count > 0 && shape.Dim[0].DimValue < 0)
            {
                shape.Dim[0].DimParam = "batch";
            }
        }
    }
}
