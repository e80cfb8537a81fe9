using System.Runtime.CompilerServices;
using Google.Protobuf;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using static Microsoft.ML.Model.OnnxConverter.OnnxCSharpToProtoWrapper;

namespace Microsoft.ML.Perturbed.Estimators.ModelPersistence;

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
