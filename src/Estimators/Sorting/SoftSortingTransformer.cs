using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>
/// Soft ranks, soft sort or quantile normalization of known-size <c>Vector&lt;Single&gt;</c> columns, one output column
/// per input/output pair (created by <c>mlContext.Transforms.SoftRank</c>, <c>SoftSort</c> or <c>QuantileNormalize</c>).
/// Saves into ML.NET model zips and loads back as itself; in a fresh <see cref="MLContext"/> that has not built one of our
/// pipelines, call <c>mlContext.ComponentCatalog.RegisterPerturbed()</c> once before <c>mlContext.Model.Load</c>.
/// </summary>
public sealed class SoftSortingTransformer : ITransformer
{
    internal const string LoaderSignature = "PerturbedSoftSorting";
    private const string ModelSignature = "PRTBSORT";
    private const uint Version = 0x00010001;

    private readonly SoftSortingSettings _settings;
    private readonly ColumnInfo[] _columns;

    internal SoftSortingTransformer(SoftSortingSettings settings, ColumnInfo[] columns)
    {
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

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (ColumnInfo c in _columns)
        {
            DataViewSchema.Column input = CheckInput(inputSchema, c.Input, c.Size);
            var annotations = new DataViewSchema.Annotations.Builder();
            if (CarriesSlotNames(c))
            {
                annotations.Add(input.Annotations, name => name == "SlotNames");
            }
            builder.AddColumn(c.Output, new VectorDataViewType(NumberDataViewType.Single, c.OutputSize), annotations.ToAnnotations());
        }
        return builder.ToSchema();
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new MappedDataView(this, input, GetOutputSchema(input.Schema));
    }

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new Mapper(this, inputSchema, GetOutputSchema(inputSchema));

    /// <summary>
    /// Finds <paramref name="name"/> and checks it is a known-size vector of Single (of <paramref name="size"/> slots when
    /// given); the messages follow ML.NET's wording.
    /// </summary>
    internal static DataViewSchema.Column CheckInput(DataViewSchema schema, string name, int size = 0)
    {
        DataViewSchema.Column column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find input column '{name}'");
        if (column.Type is not VectorDataViewType { Size: > 0 } vector || vector.ItemType != NumberDataViewType.Single
            || (size > 0 && vector.Size != size))
        {
            string expected = size > 0 ? $"Vector<Single, {size}>" : "known-size vector of Single";
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for input column '{name}': expected {expected}, got {column.Type}");
        }
        return column;
    }

    private bool CarriesSlotNames(ColumnInfo c) => _settings.Operation != SoftSortingOperation.Sort && c.OutputSize == c.Size;

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        BinaryWriter w = MlNetInternals.BeginSave(ctx, ModelSignature, Version, LoaderSignature);
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

    /// <summary>The loader ML.NET calls (through the registration in <see cref="PerturbedComponents"/>).</summary>
    internal static SoftSortingTransformer Create(IHostEnvironment env, object ctx)
    {
        BinaryReader r = MlNetInternals.BeginLoad(ctx, ModelSignature, Version, LoaderSignature);
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
            return new SoftSortingTransformer(settings, columns);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidCastException)
        {
            throw new FormatException($"The saved soft sorting transform is truncated or corrupt: {e.Message}", e);
        }
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
        public ISoftOperator Operator { get; }
        public int OutputSize => Operator.OutputDimension;
    }

    /// <summary>Computes output column values from an input row; one instance per row or cursor (buffers are not shared).</summary>
    private sealed class RowComputer
    {
        private readonly SoftSortingTransformer _parent;
        private readonly DataViewRow _input;
        private readonly int _firstOutput;

        public RowComputer(SoftSortingTransformer parent, DataViewRow input, DataViewSchema outputSchema)
        {
            _parent = parent;
            _input = input;
            _firstOutput = outputSchema.Count - parent._columns.Length;
        }

        public bool IsOutput(DataViewSchema.Column column) => column.Index >= _firstOutput;

        public ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            ColumnInfo c = _parent._columns[column.Index - _firstOutput];
            if (typeof(TValue) != typeof(VBuffer<float>))
            {
                throw new InvalidOperationException($"Invalid TValue in GetGetter: '{typeof(TValue)}', expected type: '{typeof(VBuffer<float>)}'.");
            }
            ValueGetter<VBuffer<float>> source = _input.GetGetter<VBuffer<float>>(_input.Schema[c.Input]);
            VBuffer<float> buffer = default;
            var dense = new float[c.Size];
            var result = new float[c.OutputSize];
            long computedAt = -1;
            string operation = _parent._settings.Operation.ToString();
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                if (computedAt != _input.Position || computedAt < 0)
                {
                    source(ref buffer);
                    if (buffer.Length != c.Size)
                    {
                        throw new InvalidOperationException($"Column '{c.Input}' holds a vector of {buffer.Length} slots at row {_input.Position}, expected {c.Size}.");
                    }
                    buffer.CopyTo(dense);
                    for (int i = 0; i < dense.Length; i++)
                    {
                        if (!float.IsFinite(dense[i]))
                        {
                            throw new InvalidOperationException(
                                $"Column '{c.Input}' holds {dense[i]} at row {_input.Position}, slot {i}: {operation} needs finite values.");
                        }
                    }
                    c.Operator.Forward(dense, result);
                    computedAt = _input.Position;
                }
                VBufferEditor<float> editor = VBufferEditor.Create(ref value, result.Length);
                result.CopyTo(editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }
    }

    /// <summary>The lazily transformed data: input columns pass through, output columns are computed on demand.</summary>
    private sealed class MappedDataView(SoftSortingTransformer parent, IDataView input, DataViewSchema schema) : IDataView
    {
        public DataViewSchema Schema => schema;

        public bool CanShuffle => input.CanShuffle;

        public long? GetRowCount() => input.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, System.Random? rand = null)
        {
            (IEnumerable<DataViewSchema.Column> inputColumns, bool[] active) = Needed(columnsNeeded);
            return new Cursor(parent, input.GetRowCursor(inputColumns, rand), schema, active);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, System.Random? rand = null)
        {
            (IEnumerable<DataViewSchema.Column> inputColumns, bool[] active) = Needed(columnsNeeded);
            return input.GetRowCursorSet(inputColumns, n, rand).Select(c => (DataViewRowCursor)new Cursor(parent, c, schema, active)).ToArray();
        }

        private (IEnumerable<DataViewSchema.Column>, bool[]) Needed(IEnumerable<DataViewSchema.Column> columnsNeeded)
        {
            var active = new bool[schema.Count];
            var inputs = new HashSet<int>();
            int first = schema.Count - parent._columns.Length;
            foreach (DataViewSchema.Column column in columnsNeeded)
            {
                active[column.Index] = true;
                inputs.Add(column.Index < first ? column.Index : input.Schema[parent._columns[column.Index - first].Input].Index);
            }
            return (inputs.Select(i => input.Schema[i]).ToArray(), active);
        }
    }

    /// <summary>A cursor is a moving <see cref="Row"/>: it forwards everything but <c>MoveNext</c> to one.</summary>
    private sealed class Cursor(SoftSortingTransformer parent, DataViewRowCursor input, DataViewSchema schema, bool[] active) : DataViewRowCursor
    {
        private readonly Row _row = new(parent, input, schema, active);

        public override DataViewSchema Schema => _row.Schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override bool MoveNext() => input.MoveNext();
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) => _row.IsColumnActive(column);
        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => _row.GetGetter<TValue>(column);

        protected override void Dispose(bool disposing)
        {
            if (disposing) input.Dispose();
            base.Dispose(disposing);
        }
    }

    private sealed class Mapper(SoftSortingTransformer parent, DataViewSchema inputSchema, DataViewSchema outputSchema) : IRowToRowMapper
    {
        public DataViewSchema InputSchema => inputSchema;

        public DataViewSchema OutputSchema => outputSchema;

        public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
        {
            int first = outputSchema.Count - parent._columns.Length;
            return dependingColumns
                .Select(c => c.Index < first ? c.Index : inputSchema[parent._columns[c.Index - first].Input].Index)
                .Distinct().Select(i => inputSchema[i]).ToArray();
        }

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
        {
            var active = new bool[outputSchema.Count];
            foreach (DataViewSchema.Column c in activeColumns) active[c.Index] = true;
            return new Row(parent, input, outputSchema, active);
        }
    }

    private sealed class Row : DataViewRow
    {
        private readonly DataViewRow _input;
        private readonly DataViewSchema _schema;
        private readonly bool[] _active;
        private readonly RowComputer _computer;

        public Row(SoftSortingTransformer parent, DataViewRow input, DataViewSchema schema, bool[] active)
        {
            _input = input;
            _schema = schema;
            _active = active;
            _computer = new RowComputer(parent, input, schema);
        }

        public override DataViewSchema Schema => _schema;
        public override long Position => _input.Position;
        public override long Batch => _input.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index])
            {
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this row.");
            }
            return _computer.IsOutput(column) ? _computer.GetGetter<TValue>(column) : _input.GetGetter<TValue>(_input.Schema[column.Index]);
        }
    }
}
