using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Estimators.Structured;
using Microsoft.ML.Perturbed.Oracles;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

public class StructuredPredictionTests(ITestOutputHelper output)
{
    private sealed class Example
    {
        public float[] Features { get; set; } = [];
        public float[] Label { get; set; } = [];
    }

    /// <summary>Labels = the head's solution on W₀x (noiseless): a correct learner can recover them.</summary>
    private static IDataView Generated(MLContext ml, Oracle head, int n, int p, int seed)
    {
        var rng = new System.Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        int d = head.Dimension;
        var w0 = Enumerable.Range(0, d * p).Select(_ => (float)Normal()).ToArray();
        var rows = new List<Example>();
        var theta = new float[d];
        for (int r = 0; r < n; r++)
        {
            float[] x = Enumerable.Range(0, p).Select(_ => (float)Normal()).ToArray();
            for (int j = 0; j < d; j++) theta[j] = Enumerable.Range(0, p).Sum(i => w0[j * p + i] * x[i]);
            var y = new float[d];
            head.Solve(theta, y);
            rows.Add(new Example { Features = x, Label = y });
        }
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, p);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
        return ml.Data.LoadFromEnumerable(rows, definition);
    }

    [Fact]
    public void Top_k_is_learned_and_evaluated()
    {
        var ml = new MLContext(seed: 1);
        var head = new TopKOracle(12, 3);
        IDataView train = Generated(ml, head, 1500, 10, 1), test = Generated(ml, head, 300, 10, 1);
        PerturbedPredictionTransformer model = ml.StructuredPrediction().Trainers.TopK(3, new PerturbedStructuredOptions { NumberOfIterations = 20, Epsilon = 0.5 }).Fit(train);
        TopKMetrics m = ml.StructuredPrediction().EvaluateTopK(model.Transform(test));
        output.WriteLine($"precision@3 {m.PrecisionAtK:F3}, exact {m.ExactSetMatch:F3}");
        // Chance is 3/12 = 0.25; the labels are a noiseless top-3 of a linear function the model can represent.
        Assert.True(m.PrecisionAtK > 0.85, $"precision@3 {m.PrecisionAtK:F3}");
        Assert.All(model.Transform(test).GetColumn<float[]>("Prediction"), y => Assert.Equal(3f, y.Sum()));
    }

    [Fact]
    public void Matching_is_learned_evaluated_and_round_trips()
    {
        var ml = new MLContext(seed: 1);
        var head = new MatchingOracle(4);
        IDataView train = Generated(ml, head, 1500, 8, 2), test = Generated(ml, head, 300, 8, 2);
        PerturbedPredictionTransformer model = ml.StructuredPrediction().Trainers.Matching(4, new PerturbedStructuredOptions { NumberOfIterations = 20, Epsilon = 0.5 }).Fit(train);
        MatchingMetrics m = ml.StructuredPrediction().EvaluateMatching(model.Transform(test));
        output.WriteLine($"wrong positions {m.WrongPositions:F3}, rows with an error {m.AnyError:F3}");
        // A random assignment gets 3/4 of the positions wrong.
        Assert.True(m.WrongPositions < 0.2, $"wrong positions {m.WrongPositions:F3}");

        using var stream = new MemoryStream();
        ml.Model.Save(model, test.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext();
        fresh.ComponentCatalog.RegisterPerturbed();
        ITransformer loaded = fresh.Model.Load(stream, out _);
        Assert.Equal(model.Transform(test).GetColumn<float[]>("Prediction").ToArray(), loaded.Transform(test).GetColumn<float[]>("Prediction").ToArray());
    }

    [Fact]
    public void Bad_labels_throw_naming_the_column_and_row()
    {
        var ml = new MLContext(seed: 1);
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 2);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        IDataView data = ml.Data.LoadFromEnumerable(new[]
        {
            new Example { Features = [1, 2], Label = [1, 0, 0, 1] },
            new Example { Features = [1, 2], Label = [1, 1, 0, 1] },
        }, definition);
        var topK = Assert.Throws<InvalidOperationException>(() => ml.StructuredPrediction().Trainers.TopK(2).Fit(data));
        Assert.Contains("Column 'Label' row 1 has 3 labels set; the top-k head expects exactly k = 2", topK.Message);
        var matching = Assert.Throws<InvalidOperationException>(() => ml.StructuredPrediction().Trainers.Matching(2).Fit(data));
        Assert.Contains("row 1 is not an assignment", matching.Message);
        Assert.Contains("expected Vector<Single, 9>", Assert.Throws<ArgumentOutOfRangeException>(() => ml.StructuredPrediction().Trainers.Matching(3).Fit(data)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.StructuredPrediction().Trainers.TopK(5).Fit(data));
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.StructuredPrediction().Trainers.TopK(0));
    }

    [Fact]
    public void Matching_evaluation_of_vectors_that_are_not_square_says_so()
    {
        var ml = new MLContext(seed: 1);
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new Example { Features = [1, 0, 0], Label = [1, 0, 0] } }, definition);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.StructuredPrediction().EvaluateMatching(data, predictionColumnName: "Features"));
        Assert.Contains("not a square", e.Message);
        Assert.Equal("labelColumnName", e.ParamName);
    }
}
