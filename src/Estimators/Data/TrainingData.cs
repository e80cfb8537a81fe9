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
        (float[] x, float[] y, _, int p) = Read(data, featureColumnName, label, d, bindLabel, role, null);
        return (x, y, p);
    }

    /// <summary>As <see cref="Read(IDataView, string, DataViewSchema.Column, int, Func{DataViewRowCursor, LabelDecoder}, string)"/>, with an optional example-weight column (Single, finite, ≥ 0).</summary>
    public static (float[] X, float[] Y, float[] W, int P) Read(IDataView data, string featureColumnName, DataViewSchema.Column label, int d,
        Func<DataViewRowCursor, LabelDecoder> bindLabel, string role, string? weightColumnName)
    {
        DataViewSchema.Column features = VectorColumns.Require(data.Schema, featureColumnName);
        DataViewSchema.Column? weight = null;
        if (weightColumnName is not null)
        {
            weight = data.Schema.GetColumnOrNull(weightColumnName)
                ?? throw new ArgumentOutOfRangeException(nameof(weightColumnName), $"Could not find weight column '{weightColumnName}'");
            if (weight.Value.Type != NumberDataViewType.Single)
            {
                throw new ArgumentOutOfRangeException(nameof(weightColumnName), $"Schema mismatch for weight column '{weightColumnName}': expected Single, got {weight.Value.Type}");
            }
        }
        var w = new List<float>();
        int p = ((VectorDataViewType)features.Type).Size;
        var x = new List<float>();
        var y = new List<float>();
        var xRow = new float[p];
        var yRow = new float[d];
        VBuffer<float> buffer = default;
        DataViewSchema.Column[] needed = weight is { } wc ? [features, label, wc] : [features, label];
        using (DataViewRowCursor cursor = data.GetRowCursor(needed.Distinct()))
        {
            ValueGetter<VBuffer<float>> getX = cursor.GetGetter<VBuffer<float>>(features);
            ValueGetter<float>? getW = weight is { } column ? cursor.GetGetter<float>(column) : null;
            LabelDecoder decode = bindLabel(cursor);
            float value = 0;
            while (cursor.MoveNext())
            {
                getX(ref buffer);
                VectorColumns.ReadFinite(buffer, xRow, features.Name, cursor.Position, $"{role}");
                decode(yRow, cursor.Position);
                if (getW is not null)
                {
                    getW(ref value);
                    if (!(value >= 0) || !float.IsFinite(value))
                    {
                        throw new InvalidOperationException($"Column '{weight!.Value.Name}' row {cursor.Position} holds the weight {value}; example weights must be finite and ≥ 0.");
                    }
                    w.Add(value);
                }
                x.AddRange(xRow);
                y.AddRange(yRow);
            }
        }
        if (x.Count == 0)
        {
            throw new InvalidOperationException($"The {role} data has no rows.");
        }
        return (x.ToArray(), y.ToArray(), w.ToArray(), p);
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
