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
    /// the message names the column, row and slot, and what needed the values.
    /// </summary>
    public static void ReadFinite(in VBuffer<float> source, float[] dense, string column, long row, string purpose)
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
                throw new InvalidOperationException($"Column '{column}' holds {dense[i]} at row {row}, slot {i}: {purpose} needs finite values.");
            }
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
