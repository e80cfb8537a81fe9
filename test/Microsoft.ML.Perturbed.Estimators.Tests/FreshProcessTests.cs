using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Structured;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>Every trained model saves into an ML.NET zip and loads in a fresh process to identical predictions.</summary>
public class FreshProcessTests
{
    private sealed class Example
    {
        public float[] Features { get; set; } = [];
        public float[] Label { get; set; } = [];
    }

    private sealed class Labelled
    {
        public float[] Features { get; set; } = [];
        public uint Label { get; set; }
    }

    private static readonly float[][] Rows = [[0.5f, -1, 2], [1, 1, 1], [-2, 0.25f, 3], [0, 0, -1]];

    private static IDataView Ranked(MLContext ml)
    {
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        float[][] labels = [[1, 2, 3, 4], [2, 1, 4, 3], [4, 3, 2, 1], [3, 4, 1, 2]];
        return ml.Data.LoadFromEnumerable(Rows.Select((x, i) => new Example { Features = x, Label = labels[i] }).ToList(), definition);
    }

    [Fact]
    public void Label_ranking_model()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Ranked(ml);
        ITransformer model = ml.LabelRanking().Trainers.PerturbedFenchelYoung(numberOfIterations: 5).Fit(data);
        SoftSortingTransformerTests.AssertFreshProcessOutputs(ml, model, data, "Score", Rows);
        SoftSortingTransformerTests.AssertFreshProcessOutputs(ml, model, data, "PredictedRanking", Rows);
    }

    [Fact]
    public void Top_k_model()
    {
        var ml = new MLContext(seed: 1);
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        float[][] labels = [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 1]];
        IDataView data = ml.Data.LoadFromEnumerable(Rows.Select((x, i) => new Example { Features = x, Label = labels[i] }).ToList(), definition);
        ITransformer model = ml.StructuredPrediction().Trainers.TopK(2, new PerturbedStructuredOptions { NumberOfIterations = 5 }).Fit(data);
        SoftSortingTransformerTests.AssertFreshProcessOutputs(ml, model, data, "Prediction", Rows);
    }

    [Fact]
    public void Multiclass_model()
    {
        var ml = new MLContext(seed: 1);
        var definition = SchemaDefinition.Create(typeof(Labelled));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        definition["Label"].ColumnType = new KeyDataViewType(typeof(uint), 3);
        IDataView data = ml.Data.LoadFromEnumerable(Rows.Select((x, i) => new Labelled { Features = x, Label = (uint)(i % 3) }   /* POCO keys are 0-based; ML.NET adds 1 */).ToList(), definition);
        ITransformer model = ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(numberOfIterations: 5).Fit(data);
        SoftSortingTransformerTests.AssertFreshProcessOutputs(ml, model, data, "Score", Rows);
    }
}
