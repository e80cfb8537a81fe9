using System.Runtime.CompilerServices;
using Google.Protobuf;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using static Microsoft.ML.Model.OnnxConverter.OnnxCSharpToProtoWrapper;

namespace Microsoft.ML.Perturbed.Estimators.ModelPersistence;

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
