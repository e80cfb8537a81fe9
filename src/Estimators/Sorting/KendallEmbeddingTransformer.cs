using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>
/// The Kendall embedding (<see cref="PermutationKernels.Embedding{T}"/>) of a known-size <c>Vector&lt;Single&gt;</c>
/// column of n slots: a vector of C(n, 2) = n(n−1)/2 slots, one per pair i &lt; j in row order, 1 where xᵢ &lt; xⱼ,
/// 0 where xᵢ &gt; xⱼ, ½ on ties (created by <c>mlContext.Transforms.KendallEmbedding</c>). Saves into ML.NET model zips
/// and loads back as itself; exports to ONNX as ½ + ½ sign(xⱼ − xᵢ).
/// </summary>
internal sealed class KendallEmbeddingTransformer : RowMappingTransformer
{
    internal const string LoaderSignature = "PerturbedKendallEmbed";
    // Format versions (docs/architecture.md, "Model format versions").
    internal static readonly ModelFormat Format = new("Kendall embedding transform", "PRTBKEND", LoaderSignature,
        new ModelVersion(Written: 0x00010001, Readable: 0x00010001, ReadBack: 0x00010001),
        [(0x00010001, "Microsoft.ML.Perturbed 0.1.0 from the Kendall embedding's introduction on")])
    { LibraryNamedSince = 0x00010001 };

    private readonly string _output, _input;
    private readonly int _size;

    internal KendallEmbeddingTransformer(string output, string input, int size, IHostEnvironment? env = null)
    {
        _ = env;
        _output = output;
        _input = input;
        _size = size;
        OutputSize = PermutationKernels.EmbeddingLength(size);
    }

    /// <summary>The number of output slots C(n, 2).</summary>
    internal int OutputSize { get; }

    private protected override OutputColumn[] GetOutputColumns(DataViewSchema inputSchema)
    {
        VectorColumns.Require(inputSchema, _input, _size);
        var annotations = new DataViewSchema.Annotations.Builder();
        return [new OutputColumn(_output, new VectorDataViewType(NumberDataViewType.Single, OutputSize), annotations.ToAnnotations(), [_input])];
    }

    private protected override RowComputer CreateComputer(DataViewRow input) => new Computer(this, input);

    private protected override void SaveOnnx(OnnxGraph graph)
    {
        var first = new List<long>(OutputSize);
        var second = new List<long>(OutputSize);
        for (int i = 0; i < _size - 1; i++)
        {
            for (int j = i + 1; j < _size; j++)
            {
                first.Add(i);
                second.Add(j);
            }
        }
        string x = graph.Input(_input);
        string xi = graph.Node("Gather", [x, graph.Constant(first, OutputSize)], ("axis", 1L));
        string xj = graph.Node("Gather", [x, graph.Constant(second, OutputSize)], ("axis", 1L));
        string half = graph.Constant([0.5f], 1);
        string phi = graph.Node("Add", [half, graph.Node("Mul", [half, graph.Node("Sign", [graph.Node("Sub", [xj, xi])])])]);
        graph.Output(_output, new VectorDataViewType(NumberDataViewType.Single, OutputSize), phi);
    }

    // *** Binary format *** (0x00010001, inside the checksummed payload of MlNetInternals.BeginSave): string library
    // version; string output; string input; int size.
    private protected override void SaveModel(ModelSaveContext ctx)
    {
        using BinaryWriter w = MlNetInternals.BeginSave(ctx, Format);
        w.Write(_output);
        w.Write(_input);
        w.Write(_size);
    }

    /// <summary>The loader ML.NET calls (through the registration in <see cref="PerturbedCatalog.RegisterPerturbed"/>).</summary>
    internal static KendallEmbeddingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        BinaryReader r = MlNetInternals.BeginLoad(ctx, Format, out _);
        try
        {
            string output = r.ReadString(), input = r.ReadString();
            int size = r.ReadInt32();
            if (size < 2 || (long)size * (size - 1) / 2 > PermutationKernels.MaxEmbeddingLength)
            {
                throw new FormatException($"The saved Kendall embedding of column '{input}' has {size} slots.");
            }
            return new KendallEmbeddingTransformer(output, input, size, env);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidCastException)
        {
            throw new FormatException($"The saved Kendall embedding transform is truncated or corrupt: {e.Message}", e);
        }
    }

    /// <summary>Computes the output column of one row and caches it for the current row.</summary>
    private sealed class Computer(KendallEmbeddingTransformer parent, DataViewRow input) : RowComputer
    {
        public override Delegate GetGetter(int output)
        {
            ValueGetter<VBuffer<float>> source = input.GetGetter<VBuffer<float>>(input.Schema[parent._input]);
            VBuffer<float> buffer = default;
            var dense = new float[parent._size];
            var result = new float[parent.OutputSize];
            long computedAt = -1;
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                if (computedAt != input.Position || computedAt < 0)
                {
                    source(ref buffer);
                    VectorColumns.ReadFinite(buffer, dense, parent._input, input.Position, "the Kendall embedding");
                    PermutationKernels.Embedding<float>(dense, parent._size, result, maxDegreeOfParallelism: 1);
                    computedAt = input.Position;
                }
                VectorColumns.Write(result, ref value);
            };
            return getter;
        }
    }
}
