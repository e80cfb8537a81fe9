using Microsoft.ML.Data;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>The simple trainer overloads take <c>exampleWeightColumnName</c> as ML.NET's own trainers do.</summary>
public class ExampleWeightOverloadTests
{
    private sealed class Row
    {
        [VectorType(2)] public float[] Features { get; set; } = [];
        [VectorType(3)] public float[] Ranks { get; set; } = [];
        public string Class { get; set; } = "";
        public float Weight { get; set; }
    }

    /// <summary>Every input appears twice with opposite answers; only the first copy has weight.</summary>
    private static IDataView Conflicting(MLContext ml)
    {
        var rng = new System.Random(2);
        var rows = new List<Row>();
        for (int i = 0; i < 60; i++)
        {
            float[] x = [(float)rng.NextDouble(), (float)rng.NextDouble()];
            rows.Add(new Row { Features = x, Ranks = [1, 2, 3], Class = "a", Weight = 1 });
            rows.Add(new Row { Features = x, Ranks = [3, 2, 1], Class = "b", Weight = 0 });
        }
        return ml.Data.LoadFromEnumerable(rows);
    }

    [Fact]
    public void Label_ranking_weighs_rows_by_the_named_column()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Conflicting(ml);
        var model = ml.LabelRanking().Trainers.PerturbedFenchelYoung("Ranks", "Features", exampleWeightColumnName: "Weight", numberOfIterations: 20).Fit(data);
        Assert.All(model.Transform(data).GetColumn<float[]>("PredictedRanking"), r => Assert.Equal([1f, 2, 3], r));
        var missing = Assert.ThrowsAny<ArgumentException>(() => ml.LabelRanking().Trainers.PerturbedFenchelYoung("Ranks", exampleWeightColumnName: "NoSuchWeight").Fit(data));
        Assert.Contains("NoSuchWeight", missing.Message);
    }

    [Fact]
    public void Multiclass_weighs_rows_by_the_named_column()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Conflicting(ml);
        var model = ml.Transforms.Conversion.MapValueToKey("Label", "Class")
            .Append(ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(exampleWeightColumnName: "Weight", numberOfIterations: 20))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel")).Fit(data);
        Assert.All(model.Transform(data).GetColumn<string>("PredictedClass"), c => Assert.Equal("a", c));
    }
}
