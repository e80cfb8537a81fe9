using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;

namespace Microsoft.ML.Perturbed.Estimators.Data;

/// <summary>
/// Base of this library's transformers: input columns pass through, output columns are appended and computed lazily,
/// row by row, from some input columns. Provides <see cref="ITransformer.Transform"/> (a lazy data view with cursor
/// sets) and the row-to-row mapper (so <c>PredictionEngine</c> works); derived classes declare their outputs, compute
/// them, and save themselves. The data view joins ML.NET's ONNX converter (ModelPersistence/InternalInterfaces.cs): it
/// writes the transformer's <see cref="SaveOnnx"/> graph, or fails with the transformer's reason.
/// </summary>
public abstract partial class RowMappingTransformer : ITransformer
{
    private protected RowMappingTransformer()
    {
    }

    /// <summary>One appended column: its name, type, annotations and the input columns it reads.</summary>
    private protected readonly record struct OutputColumn(string Name, DataViewType Type, DataViewSchema.Annotations Annotations, string[] Inputs);

    /// <summary>The appended columns for an input schema; throws in ML.NET's wording when the schema does not fit.</summary>
    private protected abstract OutputColumn[] GetOutputColumns(DataViewSchema inputSchema);

    /// <summary>Computes the outputs of one row; one instance per row or cursor, so it may keep buffers.</summary>
    private protected abstract class RowComputer
    {
        /// <summary>Getter of output column <paramref name="output"/> (index into the appended columns).</summary>
        public abstract Delegate GetGetter(int output);
    }

    /// <summary>Creates the computer reading from <paramref name="input"/>.</summary>
    private protected abstract RowComputer CreateComputer(DataViewRow input);

    /// <summary>Writes the model (through the internals bridge).</summary>
    private protected abstract void SaveModel(ModelSaveContext ctx);

    void ICanSaveModel.Save(ModelSaveContext ctx) => SaveModel(ctx);

    /// <summary>
    /// Writes the appended columns as ONNX nodes (docs/architecture.md, "ONNX export"); throws
    /// <see cref="NotSupportedException"/> saying why when they have no exact ONNX form.
    /// </summary>
    private protected abstract void SaveOnnx(OnnxGraph graph);

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (OutputColumn c in GetOutputColumns(inputSchema))
        {
            builder.AddColumn(c.Name, c.Type, c.Annotations);
        }
        return builder.ToSchema();
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new MappedDataView(this, input, GetOutputSchema(input.Schema), GetOutputColumns(input.Schema));
    }

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        new Mapper(this, inputSchema, GetOutputSchema(inputSchema), GetOutputColumns(inputSchema));

    /// <summary>Input columns needed to produce <paramref name="columns"/> of the output schema.</summary>
    private static IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema, OutputColumn[] outputs, IEnumerable<DataViewSchema.Column> columns)
    {
        var indices = new HashSet<int>();
        foreach (DataViewSchema.Column c in columns)
        {
            if (c.Index < inputSchema.Count)
            {
                indices.Add(c.Index);
            }
            else
            {
                foreach (string name in outputs[c.Index - inputSchema.Count].Inputs) indices.Add(inputSchema[name].Index);
            }
        }
        return indices.Order().Select(i => inputSchema[i]).ToArray();
    }

    private static bool[] Active(int count, IEnumerable<DataViewSchema.Column> columns)
    {
        var active = new bool[count];
        foreach (DataViewSchema.Column c in columns) active[c.Index] = true;
        return active;
    }

    private sealed partial class MappedDataView(RowMappingTransformer parent, IDataView input, DataViewSchema schema, OutputColumn[] outputs) : IDataView
    {
        private RowMappingTransformer Parent => parent;

        private IDataView Input => input;

        public DataViewSchema Schema => schema;

        public bool CanShuffle => input.CanShuffle;

        public long? GetRowCount() => input.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, System.Random? rand = null)
        {
            DataViewSchema.Column[] needed = columnsNeeded.ToArray();
            return new Cursor(parent, input.GetRowCursor(Dependencies(input.Schema, outputs, needed), rand), schema, Active(schema.Count, needed));
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, System.Random? rand = null)
        {
            DataViewSchema.Column[] needed = columnsNeeded.ToArray();
            bool[] active = Active(schema.Count, needed);
            return input.GetRowCursorSet(Dependencies(input.Schema, outputs, needed), n, rand)
                .Select(c => (DataViewRowCursor)new Cursor(parent, c, schema, active)).ToArray();
        }
    }

    private sealed class Mapper(RowMappingTransformer parent, DataViewSchema inputSchema, DataViewSchema outputSchema, OutputColumn[] outputs) : IRowToRowMapper
    {
        public DataViewSchema InputSchema => inputSchema;

        public DataViewSchema OutputSchema => outputSchema;

        public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns) =>
            Dependencies(inputSchema, outputs, dependingColumns);

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
            new Row(parent, input, outputSchema, Active(outputSchema.Count, activeColumns));
    }

    /// <summary>A row of the output: pass-through getters for input columns, computed getters for appended ones.</summary>
    private sealed class Row(RowMappingTransformer parent, DataViewRow input, DataViewSchema schema, bool[] active) : DataViewRow
    {
        private readonly RowComputer _computer = parent.CreateComputer(input);

        public override DataViewSchema Schema => schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) => active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!active[column.Index])
            {
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this row.");
            }
            int first = input.Schema.Count;
            if (column.Index < first)
            {
                return input.GetGetter<TValue>(input.Schema[column.Index]);
            }
            return _computer.GetGetter(column.Index - first) as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Invalid TValue in GetGetter: '{typeof(TValue)}' for column '{column.Name}' of type {column.Type}.");
        }
    }

    /// <summary>A cursor is a moving <see cref="Row"/>.</summary>
    private sealed class Cursor(RowMappingTransformer parent, DataViewRowCursor input, DataViewSchema schema, bool[] active) : DataViewRowCursor
    {
        private readonly Row _row = new(parent, input, schema, active);

        public override DataViewSchema Schema => schema;
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
}
