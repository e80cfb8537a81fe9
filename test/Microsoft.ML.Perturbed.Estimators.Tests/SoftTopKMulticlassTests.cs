using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Classification;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Sorting;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// Multiclass top-k training: the soft top-k loss as a loss choice of the perturbed multiclass trainer
/// (<c>Loss = StructuredLossKind.SoftTopK</c>, <c>SoftTopK</c>, <c>SoftRankMethod</c>): it learns, ML.NET's multiclass
/// evaluator reads its top-k accuracy, its model round-trips, and k beyond the number of classes is refused by name.
/// </summary>
public class SoftTopKMulticlassTests(ITestOutputHelper output)
{
    private const int Classes = 6;

    private sealed class Example
    {
        [VectorType(4)]
        public float[] Features { get; set; } = [];
        public uint Label { get; set; }
    }

    /// <summary>Six overlapping Gaussian classes in 4 dimensions (class c centred on angle 2πc/6 in the first two features).</summary>
    private static IDataView Data(MLContext ml, int n, int seed)
    {
        var rng = new System.Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var rows = Enumerable.Range(0, n).Select(r =>
        {
            int c = r % Classes;
            double a = 2 * Math.PI * c / Classes;
            return new Example
            {
                Features = [(float)(2 * Math.Cos(a) + Normal()), (float)(2 * Math.Sin(a) + Normal()), (float)Normal(), (float)Normal()],
                Label = (uint)(c + 1),
            };
        });
        IDataView raw = ml.Data.LoadFromEnumerable(rows.ToList());
        return ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);
    }

    [Theory]
    [InlineData(SoftRankingMethod.Sinkhorn, 1e-2, 1)]
    [InlineData(SoftRankingMethod.Sinkhorn, 1e-2, 2)]
    [InlineData(SoftRankingMethod.PermutahedronL2, 1.0, 1)]
    public void The_soft_top_k_loss_trains_the_multiclass_trainer_and_round_trips(SoftRankingMethod method, double epsilon, int k)
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.Cache(Data(ml, 600, 1)), test = ml.Data.Cache(Data(ml, 600, 2));
        var options = new PerturbedMulticlassOptions
        {
            Loss = StructuredLossKind.SoftTopK, SoftTopK = k, SoftRankMethod = method, Epsilon = epsilon, NumberOfIterations = 20, LearningRate = 0.05, Seed = 3,
        };
        PerturbedMulticlassTransformer model = ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(options).Fit(train);
        IDataView scored = model.Transform(test);
        MulticlassClassificationMetrics metrics = ml.MulticlassClassification.Evaluate(scored, topKPredictionCount: 2);
        output.WriteLine($"{method} ε {epsilon} k {k}: top-1 {metrics.MicroAccuracy:P1}, top-2 {metrics.TopKAccuracy:P1}");
        // Bayes top-1 accuracy on these classes is about 60 %, top-2 about 85 %; chance is 17 % and 33 %.
        Assert.True(metrics.MicroAccuracy > 0.45, $"top-1 accuracy {metrics.MicroAccuracy:P1}");
        Assert.True(metrics.TopKAccuracy > 0.7, $"top-2 accuracy {metrics.TopKAccuracy:P1}");

        using var stream = new MemoryStream();
        ml.Model.Save(model, train.Schema, stream);
        stream.Position = 0;
        ITransformer loaded = new MLContext().Model.LoadChecked(stream, out _);
        Assert.Equal(scored.GetColumn<uint>("PredictedLabel"), loaded.Transform(test).GetColumn<uint>("PredictedLabel"));
    }

    [Fact]
    public void A_k_beyond_the_classes_or_a_perturbed_ranking_is_refused_by_name()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml, 60, 1);
        var beyond = Assert.ThrowsAny<ArgumentException>(() => ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions
        {
            Loss = StructuredLossKind.SoftTopK, SoftTopK = Classes + 1, Epsilon = 0.01, NumberOfIterations = 1,
        }).Fit(data));
        Assert.Equal("SoftTopK", beyond.ParamName);
        Assert.Contains($"[1, {Classes}]", beyond.Message);
        Assert.Equal("SoftTopK", Assert.ThrowsAny<ArgumentException>(() => ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(
            new PerturbedMulticlassOptions { Loss = StructuredLossKind.SoftTopK, SoftTopK = 0 })).ParamName);
        Assert.Equal("SoftRankMethod", Assert.ThrowsAny<ArgumentException>(() => ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions
        {
            Loss = StructuredLossKind.SoftTopK, SoftRankMethod = SoftRankingMethod.Perturbed, NumberOfIterations = 1,
        }).Fit(data)).ParamName);

        // A label beyond the key's classes reaches the trainer as ML.NET's missing key (0): with ThrowOnMissingValues it is
        // refused naming the column and row (by default skipped and counted in the log).
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Label"].ColumnType = new KeyDataViewType(typeof(uint), 3);
        var rows = Enumerable.Range(0, 6).Select(r => new Example { Features = new float[4], Label = r == 4 ? 5u : (uint)(r % 2 + 1) }).ToList();
        IDataView outOfRange = ml.Data.LoadFromEnumerable(rows, definition);
        var label = Assert.Throws<InvalidOperationException>(() => ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions
        {
            Loss = StructuredLossKind.SoftTopK, Epsilon = 0.01, NumberOfIterations = 1, ThrowOnMissingValues = true,
        }).Fit(outOfRange));
        Assert.Contains("Column 'Label' row 4 has a missing label", label.Message);
    }
}
