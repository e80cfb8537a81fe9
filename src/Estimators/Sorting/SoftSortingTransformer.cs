using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>
/// Soft ranks, soft sort or quantile normalization of known-size <c>Vector&lt;Single&gt;</c> columns, one output column
/// per input/output pair (created by <c>mlContext.Transforms.SoftRank</c>, <c>SoftSort</c> or <c>QuantileNormalize</c>).
/// Saves into ML.NET model zips and loads back as itself; in a fresh <see cref="MLContext"/> that has not built one of our
/// pipelines, call <c>mlContext.ComponentCatalog.RegisterPerturbed()</c> once before <c>mlContext.Model.Load</c>.
/// </summary>
/// <remarks>
/// <b>Cost of the Sinkhorn method.</b> A transform computes its column on every pass over the data, and
/// <see cref="SoftRankingMethod.Sinkhorn"/> (iterative entropic optimal transport, up to its iteration cap per row) costs
/// about 5–8 times a permutahedron pass at the transform's ε = 1, where rows converge in 3 iterations (measured over
/// optdigits' 64 pixels: 0.09 s against 0.017 s per pass), and proportionally more at smaller ε, which needs more
/// iterations (100 iterations at n = 100: ≈ 0.5 ms per row). A multi-pass trainer after it
/// (every perturbed trainer, and ML.NET's SDCA, L-BFGS and others) re-runs it on each epoch; put
/// <c>.AppendCacheCheckpoint(mlContext)</c> right after the transform so it runs once, or choose
/// <see cref="SoftRankingMethod.PermutahedronL2"/> (the default) or <see cref="SoftRankingMethod.PermutahedronKL"/>,
/// which are exact O(n log n) projections.
/// </remarks>
public sealed class SoftSortingTransformer : RowMappingTransformer
{
    internal const string LoaderSignature = "PerturbedSoftSorting";
    // Format versions (docs/architecture.md, "Model format versions"); a format change keeps reading the previous one.
    internal static readonly ModelFormat Format = new("soft sorting transform", "PRTBSORT", LoaderSignature,
        new ModelVersion(Written: 0x00010003, Readable: 0x00010003, ReadBack: 0x00010002),
        [
            (0x00010001, "Microsoft.ML.Perturbed 0.1.0 before commit e211de1 only (the payload had no checksum)"),
            (0x00010002, "Microsoft.ML.Perturbed 0.1.0 from commit e211de1 on and later versions"),
            (0x00010003, "Microsoft.ML.Perturbed 0.1.0 after commit 26a5a53 and later versions (the payload starts with the library version that wrote it)"),
        ])
    { LibraryNamedSince = 0x00010003 };

    private readonly SoftSortingSettings _settings;
    private readonly ColumnInfo[] _columns;

    private readonly IHost? _host;
    private int _warned;

    internal SoftSortingTransformer(SoftSortingSettings settings, ColumnInfo[] columns, IHostEnvironment? env = null)
    {
        _host = env?.Register(nameof(SoftSortingTransformer));
        settings.Validate();
        _settings = settings;
        _columns = columns;
    }

    /// <summary>What is computed.</summary>
    public SoftSortingOperation Operation => _settings.Operation;

    /// <summary>The smoothing.</summary>
    public SoftRankingMethod Method => _settings.Method;

    /// <summary>Strength ε.</summary>
    public double Epsilon => _settings.Epsilon;

    /// <summary>Ascending or descending.</summary>
    public SortDirection Direction => _settings.Direction;

    /// <summary>The output/input column pairs.</summary>
    public IReadOnlyList<InputOutputColumnPair> Columns => _columns.Select(c => new InputOutputColumnPair(c.Output, c.Input)).ToArray();

    /// <summary>Quantile normalization: the target quantiles (ascending) used for <paramref name="outputColumnName"/>.</summary>
    public IReadOnlyList<double> GetTargets(string outputColumnName) =>
        _columns.FirstOrDefault(c => c.Output == outputColumnName)?.Targets?.Order().ToArray()
        ?? throw new ArgumentException($"No quantile-normalized output column '{outputColumnName}'.", nameof(outputColumnName));

    private protected override OutputColumn[] GetOutputColumns(DataViewSchema inputSchema)
    {
        var outputs = new OutputColumn[_columns.Length];
        for (int i = 0; i < _columns.Length; i++)
        {
            ColumnInfo c = _columns[i];
            DataViewSchema.Column input = VectorColumns.Require(inputSchema, c.Input, c.Size);
            var annotations = new DataViewSchema.Annotations.Builder();
            if (CarriesSlotNames(c))
            {
                annotations.Add(input.Annotations, name => name == "SlotNames");
            }
            outputs[i] = new OutputColumn(c.Output, new VectorDataViewType(NumberDataViewType.Single, c.OutputSize), annotations.ToAnnotations(), [c.Input]);
        }
        return outputs;
    }

    private protected override RowComputer CreateComputer(DataViewRow input) => new Computer(this, input);

    private bool CarriesSlotNames(ColumnInfo c) => _settings.Operation != SoftSortingOperation.Sort && c.OutputSize == c.Size;

    /// <summary>
    /// The hard operators (ε = 0, permutahedron methods) in ONNX, exactly: sort as TopK of all n values; ranks and quantile
    /// normalization by counting, for each value, the values that come before it (G) and equal it (E) in the operator's
    /// order, which places its run of ties at positions G … G + E − 1 of the decreasing reference w = (n, …, 1) or the
    /// targets; a value gets w_G, a run of ties the mean of its entries of w.
    /// </summary>
    /// <exception cref="NotSupportedException">ε &gt; 0 or a Sinkhorn / perturbed method: no exact ONNX form.</exception>
    private protected override void SaveOnnx(OnnxGraph graph)
    {
        SoftSortingSettings s = _settings;
        if (s.Epsilon != 0 || s.Method is not (SoftRankingMethod.PermutahedronL2 or SoftRankingMethod.PermutahedronKL))
        {
            throw new NotSupportedException($"The {s.Operation} transform with method {s.Method} and ε = {s.Epsilon} has no exact ONNX form: " +
                "the soft operators iterate data-dependently (pool-adjacent-violators, Sinkhorn) or average random draws. Only the hard operators " +
                "(ε = 0 with the PermutahedronL2 or PermutahedronKL method) export to ONNX; run the soft transform in .NET.");
        }
        foreach (ColumnInfo c in _columns)
        {
            string x = graph.Input(c.Input);
            var type = new VectorDataViewType(NumberDataViewType.Single, c.OutputSize);
            bool ascending = s.Direction switch
            {
                SortDirection.Ascending => true,
                SortDirection.Descending => false,
                _ => throw new ArgumentOutOfRangeException(nameof(Direction), s.Direction, "Unknown sort direction."),
            };
            if (s.Operation == SoftSortingOperation.Sort)
            {
                graph.Output(c.Output, type, graph.TopK(x, c.Size, largest: !ascending).Values);
                continue;
            }
            double[] reference = s.Operation switch
            {
                SoftSortingOperation.Rank => Enumerable.Range(0, c.Size).Select(k => (double)(c.Size - k)).ToArray(),
                SoftSortingOperation.QuantileNormalize => c.Targets!.OrderDescending().ToArray(),
                _ => throw new ArgumentOutOfRangeException(nameof(Operation), s.Operation, "Unknown soft sorting operation."),
            };
            graph.Output(c.Output, type, graph.Cast(RunMeans(graph, x, reference, ascending), OnnxType.Float));
        }
    }

    /// <summary>Per value, the mean of <paramref name="reference"/> over its run of ties in decreasing order of ±x (double).</summary>
    private static string RunMeans(OnnxGraph graph, string x, double[] reference, bool ascending)
    {
        int n = reference.Length;
        string row = graph.Node("Reshape", [x, graph.Constant([0L, 1, n], 3)]);      // x_j along the last axis
        string column = graph.Node("Reshape", [x, graph.Constant([0L, n, 1], 3)]);   // x_i along the middle axis
        string ones = graph.Constant(Enumerable.Repeat(1.0, n), n, 1);
        string Count(string op) => graph.Node("Reshape",
            [graph.Node("MatMul", [graph.Cast(graph.Node(op, [row, column]), OnnxType.Double), ones]), graph.Constant([0L, n], 2)]);
        string before = Count(ascending ? "Greater" : "Less");   // G_i: values before x_i in decreasing order of ±x
        string equal = Count("Equal");                           // E_i ≥ 1: x_i's run of ties
        var cumulative = new double[n + 1];
        for (int k = 0; k < n; k++) cumulative[k + 1] = cumulative[k] + reference[k];
        string start = graph.Cast(before, OnnxType.Int64);
        string end = graph.Cast(graph.Node("Add", [before, equal]), OnnxType.Int64);
        string single = graph.Node("Gather", [graph.Constant(reference, n), start], ("axis", 0L));
        string sums = graph.Node("Sub", [graph.Node("Gather", [graph.Constant(cumulative, n + 1), end], ("axis", 0L)),
            graph.Node("Gather", [graph.Constant(cumulative, n + 1), start], ("axis", 0L))]);
        // A value without ties takes its reference entry as it is; a run of ties the mean of its entries.
        return graph.Node("Where", [graph.Node("Equal", [equal, graph.Constant([1.0], 1)]), single, graph.Node("Div", [sums, equal])]);
    }

    // *** Binary format *** (0x00010003, inside the checksummed payload of MlNetInternals.BeginSave; 0x00010002 is the same
    // without the leading library version): string library version;
    // int operation; int method; double ε; int direction; int samples; int seed; int max iterations; double tolerance;
    // int squashing; int column count; per column: string output, string input, int size, int target count, doubles.
    private protected override void SaveModel(ModelSaveContext ctx)
    {
        using BinaryWriter w = MlNetInternals.BeginSave(ctx, Format);
        SoftSortingSettings s = _settings;
        w.Write((int)s.Operation);
        w.Write((int)s.Method);
        w.Write(s.Epsilon);
        w.Write((int)s.Direction);
        w.Write(s.Samples);
        w.Write(s.Seed);
        w.Write(s.MaxIterations);
        w.Write(s.Tolerance);
        w.Write((int)s.Squashing);
        w.Write(_columns.Length);
        foreach (ColumnInfo c in _columns)
        {
            w.Write(c.Output);
            w.Write(c.Input);
            w.Write(c.Size);
            w.Write(c.Targets?.Length ?? 0);
            foreach (double t in c.Targets ?? [])
            {
                w.Write(t);
            }
        }
    }

    /// <summary>The loader ML.NET calls (through the registration in <see cref="PerturbedCatalog.RegisterPerturbed"/>).</summary>
    internal static SoftSortingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        BinaryReader r = MlNetInternals.BeginLoad(ctx, Format, out _);
        try
        {
            var settings = new SoftSortingSettings((SoftSortingOperation)r.ReadInt32(), (SoftRankingMethod)r.ReadInt32(), r.ReadDouble(),
                (SortDirection)r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadDouble(), (Squashing)r.ReadInt32());
            settings.Validate();
            int count = r.ReadInt32();
            if (count < 1 || count > 100_000)
            {
                throw new FormatException($"The saved soft sorting transform has {count} columns.");
            }
            var columns = new ColumnInfo[count];
            for (int i = 0; i < count; i++)
            {
                string output = r.ReadString(), input = r.ReadString();
                int size = r.ReadInt32(), targetCount = r.ReadInt32();
                if (size < 1 || (targetCount != 0 && targetCount != size))
                {
                    throw new FormatException($"The saved column '{output}' has {size} slots and {targetCount} targets.");
                }
                double[]? targets = targetCount == 0 ? null : new double[targetCount];
                for (int k = 0; k < targetCount; k++) targets![k] = r.ReadDouble();
                columns[i] = new ColumnInfo(settings, output, input, size, targets);
            }
            return new SoftSortingTransformer(settings, columns, env);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidCastException)
        {
            throw new FormatException($"The saved soft sorting transform is truncated or corrupt: {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes one warning to the context's log the first time a Sinkhorn row stops at its iteration cap with the
    /// marginals still off by more than the tolerance (<paramref name="c"/>: what computing that row reported).
    /// </summary>
    private void WarnIfCapped(SinkhornSorting sinkhorn, SinkhornConvergence c, string column, long position)
    {
        if (_host is null || c.CappedRows == 0 || Volatile.Read(ref _warned) != 0 || Interlocked.Exchange(ref _warned, 1) != 0) return;
        using IChannel channel = _host.Start("Sinkhorn");
        channel.Warning(MessageSensitivity.None, $"Column '{column}': Sinkhorn stopped at its cap of {sinkhorn.MaxIterations} iterations with a row-marginal error of {c.WorstMarginalError:G3} (tolerance {sinkhorn.Tolerance:G3}) at row {position}; further capped rows are not reported. Raise MaxIterations or ε, or loosen Tolerance.");
    }

    /// <summary>One output column: its input, sizes, quantile targets and the core operator that computes it.</summary>
    internal sealed class ColumnInfo
    {
        public ColumnInfo(SoftSortingSettings settings, string output, string input, int size, double[]? targets)
        {
            Output = output;
            Input = input;
            Size = size;
            Targets = targets;
            Operator = settings.CreateOperator(size, targets);
        }

        public string Output { get; }
        public string Input { get; }
        public int Size { get; }
        public double[]? Targets { get; }
        public Layer Operator { get; }
        public int OutputSize => Operator.OutputDimension;
    }

    /// <summary>Computes the output columns of one row; each getter caches its result for the current row.</summary>
    private sealed class Computer(SoftSortingTransformer parent, DataViewRow input) : RowComputer
    {
        public override Delegate GetGetter(int output)
        {
            ColumnInfo c = parent._columns[output];
            ValueGetter<VBuffer<float>> source = input.GetGetter<VBuffer<float>>(input.Schema[c.Input]);
            VBuffer<float> buffer = default;
            var dense = new float[c.Size];
            var result = new float[c.OutputSize];
            long computedAt = -1;
            string operation = parent._settings.Operation.ToString();
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                if (computedAt != input.Position || computedAt < 0)
                {
                    source(ref buffer);
                    VectorColumns.ReadFinite(buffer, dense, c.Input, input.Position, operation);
                    if (c.Operator is SinkhornSorting sinkhorn)
                    {
                        parent.WarnIfCapped(sinkhorn, sinkhorn.ForwardWithReport(dense, result), c.Output, input.Position);
                    }
                    else
                    {
                        c.Operator.Forward(dense, result);
                    }
                    computedAt = input.Position;
                }
                VectorColumns.Write(result, ref value);
            };
            return getter;
        }
    }
}
