using System.Reflection;
using Microsoft.ML.Data;

namespace Microsoft.ML.Perturbed.Estimators.ModelPersistence;

/// <summary>
/// The query behind a data view of ML.NET's <see cref="DatabaseLoader"/>, for error messages (docs/architecture.md, "ML.NET
/// internals"): the loader keeps its <see cref="DatabaseSource"/> in private fields, found here by type two levels deep
/// (the view, then its loader), so that no member name is assumed; null when there is none.
/// </summary>
internal static class MlNetDatabase
{
    private const BindingFlags Fields = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    public static string? Query(IDataView data)
    {
        try
        {
            return Find(data, depth: 2)?.CommandText;
        }
        catch (Exception e) when (e is FieldAccessException or TargetException or MemberAccessException)
        {
            return null;   // a message without the query rather than a second failure
        }
    }

    private static DatabaseSource? Find(object? value, int depth)
    {
        if (value is null) return null;
        if (value is DatabaseSource source) return source;
        if (depth == 0 || value.GetType().Assembly != typeof(DatabaseLoader).Assembly) return null;
        foreach (FieldInfo field in value.GetType().GetFields(Fields))
        {
            if (field.FieldType.IsPrimitive || field.FieldType == typeof(string)) continue;
            if (Find(field.GetValue(value), depth - 1) is { } found) return found;
        }
        return null;
    }
}
