using Microsoft.ML.Data;

namespace Microsoft.ML.Perturbed.Estimators.Data;

/// <summary>Fills one row of targets from the label of the cursor's current row (throwing on a bad label).</summary>
internal delegate void LabelDecoder(Span<float> target, long row);

/// <summary>Reads a data view into the dense arrays the core trainer takes, checking every row.</summary>
internal static class TrainingData
{
    /// <summary>
    /// Reads features (a known-size Single vector, every value finite) and d targets per row, decoded by the decoder
    /// <paramref name="bindLabel"/> creates for the cursor. Throws, naming the column and row, on bad data, and when
    /// there are no rows.
    /// </summary>
    public static (float[] X, float[] Y, int P) Read(IDataView data, string featureColumnName, DataViewSchema.Column label, int d,
        Func<DataViewRowCursor, LabelDecoder> bindLabel, string role)
    {
        DataViewSchema.Column features = VectorColumns.Require(data.Schema, featureColumnName);
        int p = ((VectorDataViewType)features.Type).Size;
        var x = new List<float>();
        var y = new List<float>();
        var xRow = new float[p];
        var yRow = new float[d];
        VBuffer<float> buffer = default;
        using (DataViewRowCursor cursor = data.GetRowCursor(new[] { features, label }.Distinct()))
        {
            ValueGetter<VBuffer<float>> getX = cursor.GetGetter<VBuffer<float>>(features);
            LabelDecoder decode = bindLabel(cursor);
            while (cursor.MoveNext())
            {
                getX(ref buffer);
                VectorColumns.ReadFinite(buffer, xRow, features.Name, cursor.Position, $"{role}");
                decode(yRow, cursor.Position);
                x.AddRange(xRow);
                y.AddRange(yRow);
            }
        }
        if (x.Count == 0)
        {
            throw new InvalidOperationException($"The {role} data has no rows.");
        }
        return (x.ToArray(), y.ToArray(), p);
    }

    /// <summary>A decoder for a known-size Single vector label, checked by <paramref name="check"/> and mapped by <paramref name="map"/>.</summary>
    public static Func<DataViewRowCursor, LabelDecoder> VectorLabel(DataViewSchema.Column label, string role,
        Action<float[], long> check, Func<float, float>? map = null) => cursor =>
    {
        ValueGetter<VBuffer<float>> get = cursor.GetGetter<VBuffer<float>>(label);
        VBuffer<float> buffer = default;
        var row = new float[((VectorDataViewType)label.Type).Size];
        return (target, position) =>
        {
            get(ref buffer);
            VectorColumns.ReadFinite(buffer, row, label.Name, position, role);
            check(row, position);
            for (int i = 0; i < row.Length; i++) target[i] = map is null ? row[i] : map(row[i]);
        };
    };
}
