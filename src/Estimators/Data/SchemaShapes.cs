using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;

namespace Microsoft.ML.Perturbed.Estimators.Data;

/// <summary>Schema-shape propagation shared by the estimators: column checks in ML.NET's wording, and appended columns.</summary>
internal static class SchemaShapes
{
    /// <summary>The last column named <paramref name="name"/>; throws "Could not find input column" otherwise.</summary>
    public static SchemaShape.Column Find(SchemaShape shape, string name) =>
        shape.LastOrDefault(c => c.Name == name) is { Name: not null } column
            ? column
            : throw new ArgumentOutOfRangeException(nameof(shape), $"Could not find input column '{name}'");

    /// <summary>A column that must be a known-size vector of Single.</summary>
    public static SchemaShape.Column RequireSingleVector(SchemaShape shape, string name)
    {
        SchemaShape.Column column = Find(shape, name);
        if (column.Kind != SchemaShape.Column.VectorKind.Vector || column.ItemType != NumberDataViewType.Single)
        {
            throw new ArgumentOutOfRangeException(nameof(shape),
                $"Schema mismatch for input column '{name}': expected known-size vector of Single, got {column.Kind} of {column.ItemType}");
        }
        return column;
    }

    /// <summary>
    /// <paramref name="input"/> with the columns of <paramref name="outputs"/> added (replacing same-named ones). A shape
    /// column is built from a schema holding it (its constructor is internal); sizes are not part of a shape, so any
    /// positive size will do in <paramref name="outputs"/>.
    /// </summary>
    public static SchemaShape Append(SchemaShape input, DataViewSchema.Builder outputs)
    {
        var result = input.ToDictionary(c => c.Name);
        foreach (SchemaShape.Column c in MlNetInternals.ShapeOf(outputs.ToSchema())) result[c.Name] = c;
        return new SchemaShape(result.Values);
    }

    /// <summary>An annotation of text vector type (e.g. SlotNames, KeyValues) for a shape; its value is never read.</summary>
    public static DataViewSchema.Annotations TextAnnotation(string kind)
    {
        var annotations = new DataViewSchema.Annotations.Builder();
        ValueGetter<VBuffer<ReadOnlyMemory<char>>> none = (ref VBuffer<ReadOnlyMemory<char>> v) => v = default;
        annotations.Add(kind, new VectorDataViewType(TextDataViewType.Instance, 1), none);
        return annotations.ToAnnotations();
    }
}
