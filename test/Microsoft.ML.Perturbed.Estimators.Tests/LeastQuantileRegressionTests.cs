using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Estimators.Structured;
using Microsoft.ML.Perturbed.Losses;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// The estimator contract of least-quantile regression (<c>StructuredPrediction().Trainers.LeastQuantileRegression</c>, the
/// regression head: a Single label and a Single <c>Score</c>, so it is not a case of HeadContractTests' vector-label heads):
/// schema propagation, fit/transform, ML.NET's regression evaluator, PredictionEngine, save → load in a fresh context with
/// identical outputs, ONNX, missing labels skipped or refused, bad options named, and robustness to outliers that ML.NET's
/// least-squares trainer does not have.
/// </summary>
public class LeastQuantileRegressionTests(ITestOutputHelper output)
{
    private const int P = 3;

    private sealed class Example
    {
        [VectorType(P)]
        public float[] Features { get; set; } = [];
        public float Label { get; set; }
    }

    private sealed class Prediction
    {
        public float Score { get; set; }
    }

    /// <summary>z = 2x₀ − x₁ + 0.5x₂ + 1 + small noise, a share of the responses shifted by +20…+40 (gross outliers).</summary>
    private static (List<Example> Rows, bool[] Outlier) Rows(int n, double outliers, int seed)
    {
        var rng = new System.Random(seed);
        var rows = new List<Example>();
        var outlier = new bool[n];
        for (int r = 0; r < n; r++)
        {
            float[] x = Enumerable.Range(0, P).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            float z = 2 * x[0] - x[1] + 0.5f * x[2] + 1 + (float)(0.05 * (rng.NextDouble() - 0.5));
            outlier[r] = rng.NextDouble() < outliers;
            if (outlier[r]) z += (float)(20 + 20 * rng.NextDouble());
            rows.Add(new Example { Features = x, Label = z });
        }
        return (rows, outlier);
    }

    private static float Truth(float[] x) => 2 * x[0] - x[1] + 0.5f * x[2] + 1;

    [Fact]
    public void Fits_propagates_its_schema_evaluates_predicts_round_trips_and_exports()
    {
        var ml = new MLContext(seed: 1);
        (List<Example> rows, bool[] outlier) = Rows(500, 0.3, 1);
        IDataView data = ml.Data.Cache(ml.Data.LoadFromEnumerable(rows));
        PerturbedTrainer trainer = ml.StructuredPrediction().Trainers.LeastQuantileRegression(new PerturbedStructuredOptions
        {
            QuantileLevel = 0.5, Epsilon = 0.01, BatchSize = 128, NumberOfIterations = 60, LearningRate = 0.05, Seed = 2,
        });
        SchemaShape shape = trainer.GetOutputSchema(ModelPersistence.MlNetInternals.ShapeOf(data.Schema));
        PerturbedPredictionTransformer model = trainer.Fit(data);
        IDataView scored = model.Transform(data);
        SchemaShape.Column score = Assert.Single(shape, c => data.Schema.GetColumnOrNull(c.Name) is null);
        Assert.Equal("Score", score.Name);
        Assert.Equal(SchemaShape.Column.VectorKind.Scalar, score.Kind);
        Assert.Equal(NumberDataViewType.Single, scored.Schema["Score"].Type);
        ReadOnlyMemory<char> kind = default;
        scored.Schema["Score"].Annotations.GetValue("ScoreColumnKind", ref kind);
        Assert.Equal("Regression", kind.ToString());

        // It fits the clean rows (the outliers' residuals are what it ignores), and ML.NET's regression evaluator reads it.
        float[] predicted = scored.GetColumn<float>("Score").ToArray();
        double clean = Enumerable.Range(0, rows.Count).Where(r => !outlier[r]).Average(r => Math.Abs(predicted[r] - Truth(rows[r].Features)));
        RegressionMetrics metrics = ml.Regression.Evaluate(scored);
        output.WriteLine($"mean error on the clean rows {clean:F4}; ML.NET's evaluator on all rows: MAE {metrics.MeanAbsoluteError:F3}, RMSE {metrics.RootMeanSquaredError:F3}");
        Assert.True(clean < 0.3, $"mean error on the clean rows {clean}");
        Assert.True(metrics.MeanAbsoluteError > 5, "the outliers' residuals stay large");

        // ML.NET's least squares is pulled up by the outliers (the point of the robust trainer).
        var ols = ml.Regression.Trainers.Sdca(maximumNumberOfIterations: 50).Fit(data);
        float[] olsPredicted = ols.Transform(data).GetColumn<float>("Score").ToArray();
        double olsClean = Enumerable.Range(0, rows.Count).Where(r => !outlier[r]).Average(r => Math.Abs(olsPredicted[r] - Truth(rows[r].Features)));
        output.WriteLine($"ML.NET SDCA (squared loss): mean error on the clean rows {olsClean:F3}");
        Assert.True(olsClean > 5 * clean, $"SDCA {olsClean} against least-median {clean}");

        // PredictionEngine.
        var engine = ml.Model.CreatePredictionEngine<Example, Prediction>(model);
        Assert.Equal(predicted[0], engine.Predict(rows[0]).Score);

        // Save → load in a fresh context: the same transformer type and bits.
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        ITransformer loaded = new MLContext().Model.LoadChecked(stream, out _);
        Assert.IsType<PerturbedPredictionTransformer>(loaded);
        Assert.Equal("Regression", ((PerturbedPredictionTransformer)loaded).HeadModel.Name);
        Assert.Equal(predicted, loaded.Transform(data).GetColumn<float>("Score").ToArray());

        // ONNX: Score = θ, a [batch × 1] float output, equal to the transformer's to float rounding.
        using var onnx = new MemoryStream();
        ml.Model.ExportToOnnx(model, data, onnx);
        OnnxChecker.Check(onnx.ToArray());
        using var session = new InferenceSession(onnx.ToArray());
        float[] features = rows.Take(20).SelectMany(r => r.Features).ToArray();
        float[] labels = rows.Take(20).Select(r => r.Label).ToArray();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(features, [20, P])),
            NamedOnnxValue.CreateFromTensor("Label", new DenseTensor<float>(labels, [20, 1]))]);
        float[] fromOnnx = results.First(r => r.Name.StartsWith("Score", StringComparison.Ordinal)).AsTensor<float>().ToArray();
        for (int r = 0; r < 20; r++) Assert.Equal(predicted[r], fromOnnx[r], 1e-5f * (1 + Math.Abs(predicted[r])));
    }

    [Fact]
    public void A_missing_label_is_skipped_or_refused_and_bad_settings_are_named()
    {
        var ml = new MLContext(seed: 1);
        (List<Example> rows, _) = Rows(100, 0, 3);
        rows[7].Label = float.NaN;
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        ml.StructuredPrediction().Trainers.LeastQuantileRegression(numberOfIterations: 2).Fit(data);   // the row is skipped and counted
        Assert.Contains(messages, m => m.Contains("skipped 1 of 100 rows with missing values", StringComparison.Ordinal));
        var refused = Assert.Throws<InvalidOperationException>(() => ml.StructuredPrediction().Trainers.LeastQuantileRegression(
            new PerturbedStructuredOptions { ThrowOnMissingValues = true, NumberOfIterations = 1 }).Fit(data));
        Assert.Contains("Column 'Label' holds NaN at row 7", refused.Message);

        PerturbedTrainer Make(PerturbedStructuredOptions o) => ml.StructuredPrediction().Trainers.LeastQuantileRegression(o);
        Assert.Equal("QuantileLevel", Assert.ThrowsAny<ArgumentException>(() => ml.StructuredPrediction().Trainers.LeastQuantileRegression(quantile: 1)).ParamName);
        Assert.Equal("QuantileWidth", Assert.ThrowsAny<ArgumentException>(() => Make(new() { QuantileWidth = 0 })).ParamName);
        Assert.Equal("Epsilon", Assert.ThrowsAny<ArgumentException>(() => ml.StructuredPrediction().Trainers.LeastQuantileRegression(epsilon: 1e-9)).ParamName);
        Assert.Equal("SoftRankMethod", Assert.ThrowsAny<ArgumentException>(() => Make(new() { SoftRankMethod = Perturbed.Sorting.SoftRankingMethod.Perturbed })).ParamName);
        Assert.Equal("Loss", Assert.ThrowsAny<ArgumentException>(() => Make(new() { Loss = StructuredLossKind.SquaredScores })).ParamName);
        Assert.Equal("ExampleWeightColumnName", Assert.ThrowsAny<ArgumentException>(() => Make(new() { ExampleWeightColumnName = "W" })).ParamName);
        // A vector label is not a response.
        IDataView vectorLabel = ml.Data.LoadFromEnumerable(rows.Select(r => new VectorExample { Features = r.Features, Label = [r.Label] }));
        Assert.Contains("expected Single", Assert.Throws<ArgumentOutOfRangeException>(() => ml.StructuredPrediction().Trainers.LeastQuantileRegression().Fit(vectorLabel)).Message);
        Assert.Contains("expected Single", Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.StructuredPrediction().Trainers.LeastQuantileRegression().GetOutputSchema(ModelPersistence.MlNetInternals.ShapeOf(vectorLabel.Schema))).Message);
    }

    private sealed class VectorExample
    {
        [VectorType(P)]
        public float[] Features { get; set; } = [];

        [VectorType(1)]
        public float[] Label { get; set; } = [];
    }

    [Fact]
    public void The_90_percent_quantile_trains_and_the_same_seed_gives_the_same_model()
    {
        (List<Example> rows, _) = Rows(300, 0.05, 4);
        float[] Fit(int seed)
        {
            var ml = new MLContext(seed: seed);
            IDataView data = ml.Data.LoadFromEnumerable(rows);
            return ml.StructuredPrediction().Trainers.LeastQuantileRegression(quantile: 0.9, numberOfIterations: 5).Fit(data).Transform(data).GetColumn<float>("Score").ToArray();
        }
        Assert.Equal(Fit(5), Fit(5));
        Assert.All(Fit(5), v => Assert.True(float.IsFinite(v)));
    }
}
