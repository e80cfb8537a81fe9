using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Structured;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// The tiny models behind the committed model-format fixtures (<c>Fixtures/ModelFormats/&lt;format&gt;/</c>): each is trained
/// on <see cref="Data"/> and saved with the code of the commit that wrote the format, next to its outputs on the same data
/// (<c>&lt;name&gt;.outputs.txt</c>). <see cref="ModelFormatTests"/> loads them with today's code and compares outputs.
/// To add the fixtures of a format before changing it, run the tests with <c>PERTURBED_WRITE_MODEL_FIXTURES=&lt;folder&gt;</c>.
/// </summary>
internal static class ModelFormatFixtures
{
    public sealed class Row
    {
        public float[] Features { get; set; } = [];
        public float[] Ranks { get; set; } = [];
        public float[] Top { get; set; } = [];
        public float[] Assignment { get; set; } = [];
        public string Class { get; set; } = "";
    }

    /// <summary>The fixture models: name → (pipeline output columns to compare, the fitted model).</summary>
    public static readonly string[] Names = ["label_ranking", "multiclass", "top_k", "matching", "soft_rank"];

    /// <summary>The output columns each fixture's model appends.</summary>
    public static string[] Outputs(string name) => name switch
    {
        "label_ranking" => ["Score", "PredictedRanking"],
        "multiclass" => ["Score", "PredictedLabel"],
        "top_k" or "matching" => ["Score", "Prediction"],
        "soft_rank" => ["SoftRanks"],
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown fixture."),
    };

    /// <summary>12 rows of 3 features, rank and top-1 labels over 3 items, a 3×3 assignment (row j to column j + class) and a class name.</summary>
    public static IDataView Data(MLContext ml)
    {
        var rows = Enumerable.Range(0, 12).Select(i => new Row
        {
            Features = [(i % 3 == 0 ? 2f : 0f) + 0.1f * i, (i % 3 == 1 ? 2f : 0f) - 0.05f * i, (i % 3 == 2 ? 2f : 0f) + 0.01f * i * i],
            Ranks = (i % 3) switch { 0 => [1f, 2, 3], 1 => [3f, 1, 2], _ => [2f, 3, 1] },
            Top = (i % 3) switch { 0 => [1f, 0, 0], 1 => [0f, 1, 0], _ => [0f, 0, 1] },
            Assignment = Enumerable.Range(0, 9).Select(s => s % 3 == (s / 3 + i % 3) % 3 ? 1f : 0f).ToArray(),
            Class = (i % 3) switch { 0 => "a", 1 => "b", _ => "c" },
        }).ToList();
        var definition = SchemaDefinition.Create(typeof(Row));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        definition["Ranks"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        definition["Top"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        definition["Assignment"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 9);
        return ml.Data.LoadFromEnumerable(rows, definition);
    }

    /// <summary>Trains the fixture model <paramref name="name"/> on <see cref="Data"/>.</summary>
    public static ITransformer Train(MLContext ml, string name, IDataView data) => name switch
    {
        "label_ranking" => ml.LabelRanking().Trainers.PerturbedFenchelYoung(new() { LabelColumnName = "Ranks", NumberOfIterations = 5, Seed = 1 }).Fit(data),
        "multiclass" => ml.Transforms.Conversion.MapValueToKey("Label", "Class")
            .Append(ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(numberOfIterations: 5)).Fit(data),
        "top_k" => ml.StructuredPrediction().Trainers.TopK(1, new PerturbedStructuredOptions { LabelColumnName = "Top", NumberOfIterations = 5, Seed = 1 }).Fit(data),
        "matching" => ml.StructuredPrediction().Trainers.Matching(3, new PerturbedStructuredOptions { LabelColumnName = "Assignment", NumberOfIterations = 5, Seed = 1 }).Fit(data),
        "soft_rank" => ml.Transforms.SoftRank("SoftRanks", "Features", epsilon: 0.5).Fit(data),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown fixture."),
    };

    /// <summary>The outputs of <paramref name="model"/> on the fixture data, one line per row and column, floats round-tripping.</summary>
    public static string Describe(ITransformer model, IDataView data, string name)
    {
        IDataView scored = model.Transform(data);
        var lines = new List<string>();
        foreach (string column in Outputs(name))
        {
            DataViewType type = scored.Schema[column].Type;
            IEnumerable<string> values = type switch
            {
                VectorDataViewType => scored.GetColumn<float[]>(column).Select(v => string.Join(" ", v.Select(x => x.ToString("R", CultureInfo.InvariantCulture)))),
                KeyDataViewType => scored.GetColumn<uint>(column).Select(v => v.ToString(CultureInfo.InvariantCulture)),
                _ => throw new NotSupportedException($"Fixture column '{column}' has type {type}."),
            };
            lines.AddRange(values.Select((v, i) => $"{column} {i}: {v}"));
        }
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>Writes every fixture model and its outputs into <paramref name="folder"/>.</summary>
    public static void Write(string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (string name in Names)
        {
            var ml = new MLContext(seed: 1);
            IDataView data = Data(ml);
            ITransformer model = Train(ml, name, data);
            ml.Model.Save(model, data.Schema, Path.Combine(folder, name + ".zip"));
            File.WriteAllText(Path.Combine(folder, name + ".outputs.txt"), Describe(model, data, name));
        }
    }
}
