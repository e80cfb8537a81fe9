using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Structured;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// Permutation feature importance on a features column without slot names (<c>LoadFromEnumerable</c> with
/// <c>[VectorType(n)]</c>): the results are keyed "Slot i", for every trainer, on raw data and on a pipeline's output.
/// </summary>
public class FeatureImportanceWithoutSlotNamesTests
{
    private sealed class Row
    {
        [VectorType(4)] public float[] Features { get; set; } = [];
        [VectorType(3)] public float[] Ranks { get; set; } = [];
        [VectorType(3)] public float[] Top { get; set; } = [];
        public string Class { get; set; } = "";
    }

    /// <summary>Slot c of features carries class c (0–2); slot 3 is noise.</summary>
    private static IDataView Data(MLContext ml)
    {
        var rng = new System.Random(1);
        var rows = Enumerable.Range(0, 90).Select(i => new Row
        {
            Features = Enumerable.Range(0, 4).Select(j => (float)rng.NextDouble() + (j == i % 3 ? 2f : 0)).ToArray(),
            Ranks = (i % 3) switch { 0 => [1f, 2, 3], 1 => [3f, 1, 2], _ => [2f, 3, 1] },
            Top = (i % 3) switch { 0 => [1f, 0, 0], 1 => [0f, 1, 0], _ => [0f, 0, 1] },
            Class = "c" + i % 3,
        }).ToList();
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        Assert.False(data.Schema["Features"].HasSlotNames());
        return data;
    }

    private static void AssertSlots(IReadOnlyDictionary<string, double> change, double informative)
    {
        Assert.Equal(["Slot 0", "Slot 1", "Slot 2", "Slot 3"], change.Keys.Order());
        for (int i = 0; i < 3; i++) Assert.True(change[$"Slot {i}"] < informative, $"Slot {i}: {change[$"Slot {i}"]:F3}");
        Assert.True(Math.Abs(change["Slot 3"]) < 0.05, $"noise slot: {change["Slot 3"]:F3}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Label_ranking_on_raw_data_and_on_a_pipelines_output(bool pipeline)
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        var trainer = ml.LabelRanking().Trainers.PerturbedFenchelYoung(new() { LabelColumnName = "Ranks", NumberOfIterations = 20, Seed = 1 });
        ITransformer model = pipeline ? ml.Transforms.NormalizeMinMax("Features").Append(trainer).Fit(data) : trainer.Fit(data);
        IDataView input = pipeline ? model.Transform(data) : data;
        var importance = ml.LabelRanking().PermutationFeatureImportance(model, input, labelColumnName: "Ranks", permutationCount: 2);
        AssertSlots(importance.ToDictionary(p => p.Key, p => p.Value.Spearman.Mean), informative: -0.1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Multiclass_and_top_k_through_the_metric_of_any_head(bool pipeline)
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        IEstimator<ITransformer> prefix = pipeline ? ml.Transforms.NormalizeMinMax("Features") : ml.Transforms.CopyColumns("Copy", "Class");
        ITransformer classifier = prefix.Append(ml.Transforms.Conversion.MapValueToKey("Label", "Class"))
            .Append(ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(numberOfIterations: 20)).Fit(data);
        var accuracy = ml.StructuredPrediction().PermutationFeatureImportance(classifier, classifier.Transform(data),
            scored => ml.MulticlassClassification.Evaluate(scored).MicroAccuracy, permutationCount: 2);
        AssertSlots(accuracy.ToDictionary(p => p.Key, p => p.Value.Change.Mean), informative: -0.1);

        ITransformer topK = prefix.Append(ml.StructuredPrediction().Trainers.TopK(1, new PerturbedStructuredOptions { LabelColumnName = "Top", NumberOfIterations = 20, Seed = 1 })).Fit(data);
        var precision = ml.StructuredPrediction().PermutationFeatureImportance(topK, pipeline ? topK.Transform(data) : data,
            scored => ml.StructuredPrediction().EvaluateTopK(scored, labelColumnName: "Top").PrecisionAtK, permutationCount: 2);
        AssertSlots(precision.ToDictionary(p => p.Key, p => p.Value.Change.Mean), informative: -0.1);
    }
}
