using Microsoft.ML.Data;

namespace Microsoft.ML.Perturbed.Estimators.Data;

/// <summary>
/// A data view that passes its source through unchanged, except that one known-size vector column without slot names
/// gets the names "Slot 0", "Slot 1", …. ML.NET's permutation-feature-importance engine keys its results by the
/// features column's slot names and fails on a column without them (the usual <c>LoadFromEnumerable</c> with
/// <c>[VectorType(n)]</c> case); our PFI entry points pass their data through this view.
/// </summary>
internal sealed class SlotNamedDataView : IDataView
{
    private readonly IDataView _source;

    private SlotNamedDataView(IDataView source, DataViewSchema schema)
    {
        _source = source;
        Schema = schema;
    }

    /// <summary>
    /// <paramref name="data"/> itself when <paramref name="columnName"/> is missing, not a known-size vector, or already
    /// has slot names; otherwise the view with "Slot i" names on that column.
    /// </summary>
    public static IDataView Ensure(IDataView data, string columnName)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Schema.GetColumnOrNull(columnName) is not { Type: VectorDataViewType { Size: > 0 } vector } column || column.HasSlotNames(vector.Size))
        {
            return data;
        }
        var builder = new DataViewSchema.Builder();
        foreach (DataViewSchema.Column c in data.Schema)
        {
            if (c.Index != column.Index)
            {
                builder.AddColumn(c.Name, c.Type, c.Annotations);
                continue;
            }
            var annotations = new DataViewSchema.Annotations.Builder();
            annotations.Add(c.Annotations, name => name != AnnotationUtils.Kinds.SlotNames);
            int size = vector.Size;
            annotations.AddSlotNames(size, (ref VBuffer<ReadOnlyMemory<char>> names) =>
            {
                VBufferEditor<ReadOnlyMemory<char>> editor = VBufferEditor.Create(ref names, size);
                for (int i = 0; i < size; i++) editor.Values[i] = $"Slot {i}".AsMemory();
                names = editor.Commit();
            });
            builder.AddColumn(c.Name, c.Type, annotations.ToAnnotations());
        }
        return new SlotNamedDataView(data, builder.ToSchema());
    }

    /// <inheritdoc/>
    public bool CanShuffle => _source.CanShuffle;

    /// <inheritdoc/>
    public DataViewSchema Schema { get; }

    /// <inheritdoc/>
    public long? GetRowCount() => _source.GetRowCount();

    /// <inheritdoc/>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, System.Random? rand = null) =>
        new Cursor(this, _source.GetRowCursor(Source(columnsNeeded), rand));

    /// <inheritdoc/>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, System.Random? rand = null) =>
        _source.GetRowCursorSet(Source(columnsNeeded), n, rand).Select(c => (DataViewRowCursor)new Cursor(this, c)).ToArray();

    private IEnumerable<DataViewSchema.Column> Source(IEnumerable<DataViewSchema.Column> columns) =>
        columns.Select(c => _source.Schema[c.Index]).ToArray();

    /// <summary>The source's cursor under this view's schema (same column indices).</summary>
    private sealed class Cursor(SlotNamedDataView parent, DataViewRowCursor source) : DataViewRowCursor
    {
        public override DataViewSchema Schema => parent.Schema;

        public override long Position => source.Position;

        public override long Batch => source.Batch;

        public override bool MoveNext() => source.MoveNext();

        public override ValueGetter<DataViewRowId> GetIdGetter() => source.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => source.IsColumnActive(source.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => source.GetGetter<TValue>(source.Schema[column.Index]);

        protected override void Dispose(bool disposing)
        {
            if (disposing) source.Dispose();
            base.Dispose(disposing);
        }
    }
}
