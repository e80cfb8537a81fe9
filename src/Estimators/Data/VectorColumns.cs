using Microsoft.ML.Data;

namespace Microsoft.ML.Perturbed.Estimators.Data;

/// <summary>Reading and writing dense <c>Vector&lt;Single&gt;</c> values with the library's checks.</summary>
internal static class VectorColumns
{
    /// <summary>
    /// Finds <paramref name="name"/> and checks it is a known-size vector of Single (of <paramref name="size"/> slots when
    /// given); the messages follow ML.NET's wording.
    /// </summary>
    public static DataViewSchema.Column Require(DataViewSchema schema, string name, int size = 0)
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

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="dense"/> and checks its length and that every value is finite;
    /// the message names the column, row and slot, and what needed the values. <paramref name="skippable"/>: a training row
    /// that a trainer may skip (<see cref="MissingValueException"/>).
    /// </summary>
    public static void ReadFinite(in VBuffer<float> source, float[] dense, string column, long row, string purpose, bool skippable = false)
    {
        if (source.Length != dense.Length)
        {
            throw new InvalidOperationException($"Column '{column}' holds a vector of {source.Length} slots at row {row}, expected {dense.Length}.");
        }
        source.CopyTo(dense);
        for (int i = 0; i < dense.Length; i++)
        {
            if (!float.IsFinite(dense[i]))
            {
                string message = $"Column '{column}' holds {dense[i]} at row {row}, slot {i}: {purpose} needs finite values.";
                throw skippable ? new MissingValueException(message) : new InvalidOperationException(message);
            }
        }
    }

    /// <summary>
    /// Checks a vector's size and that its stored values are finite (a sparse vector's implicit zeros are); the message
    /// names the column, row and slot.
    /// </summary>
    public static void CheckFinite(in VBuffer<float> source, int size, string column, long row, string purpose)
    {
        if (source.Length != size)
        {
            throw new InvalidOperationException($"Column '{column}' holds a vector of {source.Length} slots at row {row}, expected {size}.");
        }
        ReadOnlySpan<float> values = source.GetValues();
        int bad = values.IndexOfAnyExceptInRange(float.MinValue, float.MaxValue);
        if (bad >= 0)
        {
            int slot = source.IsDense ? bad : source.GetIndices()[bad];
            throw new MissingValueException($"Column '{column}' holds {values[bad]} at row {row}, slot {slot}: {purpose} needs finite values.");
        }
    }

    /// <summary>Writes <paramref name="values"/> into a dense <see cref="VBuffer{T}"/>, reusing its buffers.</summary>
    public static void Write(ReadOnlySpan<float> values, ref VBuffer<float> destination)
    {
        VBufferEditor<float> editor = VBufferEditor.Create(ref destination, values.Length);
        values.CopyTo(editor.Values);
        destination = editor.Commit();
    }
}
