using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Perturbed.Estimators.Sorting;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Trainers;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// The SUQUAN trainers (<c>BinaryClassification.Trainers.SupervisedQuantileNormalization</c> and the multiclass one) as ML.NET
/// estimators: schema announced and produced, the learned f readable and equal to the core fit's, save → load in a fresh
/// context with identical outputs, evaluators, missing values skipped or refused by name, bad columns in ML.NET's wording.
/// </summary>
public class SupervisedQuantileNormalizationTests(ITestOutputHelper output)
{
    private const int N = 12;

    private sealed class Example
    {
        public float[] Features { get; set; } = [];
        public bool Label { get; set; }
        public string Class { get; set; } = "";
    }

    /// <summary>
    /// Rows whose class depends on the ranks only: a planted (w, f) scores Ψ_f(z) of normal z; each row is then distorted by
    /// its own increasing map x = a·exp(c·z) + d (so the values, not the ranks, vary from row to row). Three classes: by the
    /// score's terciles; binary: above the median.
    /// </summary>
    private static Example[] Rows(int count, int seed)
    {
        var rng = new System.Random(seed);
        double[] f = Enumerable.Range(0, N).Select(k => k >= 3 * N / 4 ? 1.0 : 0).ToArray();
        var wRng = new System.Random(99);   // the same w for every call
        double[] w = Enumerable.Range(0, N).Select(_ => 2 * wRng.NextDouble() - 1).ToArray();
        var rows = new Example[count];
        var scores = new double[count];
        for (int r = 0; r < count; r++)
        {
            double[] z = Enumerable.Range(0, N).Select(_ => Math.Round(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()), 1)).ToArray();
            int[] order = Enumerable.Range(0, N).OrderBy(i => z[i]).ToArray();
            var psi = new double[N];
            for (int k = 0; k < N; k++) psi[order[k]] = f[k];
            scores[r] = psi.Zip(w, (a, b) => a * b).Sum() + 0.3 * (rng.NextDouble() - 0.5);
            double a = Math.Exp(2 * rng.NextDouble()), c = 0.2 + rng.NextDouble(), d = 10 * rng.NextDouble();
            rows[r] = new Example { Features = z.Select(v => (float)(a * Math.Exp(c * v) + d)).ToArray() };
        }
        double[] sorted = scores.Order().ToArray();
        for (int r = 0; r < count; r++)
        {
            rows[r].Label = scores[r] > sorted[count / 2];
            rows[r].Class = scores[r] > sorted[2 * count / 3] ? "high" : scores[r] > sorted[count / 3] ? "middle" : "low";
        }
        return rows;
    }

    private static SchemaDefinition Definition(int size = N)
    {
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        return definition;
    }

    private static IDataView Load(MLContext ml, IEnumerable<Example> rows) => ml.Data.LoadFromEnumerable(rows.ToList(), Definition());

    [Fact]
    public void Binary_trainer_announces_and_produces_its_columns_learns_f_and_round_trips_in_a_fresh_context()
    {
        var ml = new MLContext(seed: 1);
        Example[] train = Rows(1500, 1), test = Rows(500, 2);
        IDataView data = Load(ml, train), testData = Load(ml, test);
        var estimator = ml.BinaryClassification.Trainers.SupervisedQuantileNormalization();
        SchemaShape shape = estimator.GetOutputSchema(ModelPersistence.MlNetInternals.ShapeOf(data.Schema));
        var model = estimator.Fit(data);
        IDataView scored = model.Transform(testData);
        foreach (SchemaShape.Column column in shape)
            Assert.True(scored.Schema.GetColumnOrNull(column.Name) is not null, $"'{column.Name}' announced but not produced");
        foreach (string name in new[] { "QuantileNormalizedFeatures", "Score", "Probability", "PredictedLabel" })
            Assert.Contains(name, shape.Select(c => c.Name));

        // The learned f: readable from the chain's first component, non-decreasing, and the core fit's exactly (one thread).
        IReadOnlyList<double> f = ((SoftSortingTransformer)model.First()).GetTargets("QuantileNormalizedFeatures");
        SupervisedQuantileModel core = SupervisedQuantileNormalization.Fit(train.SelectMany(r => r.Features).ToArray(), train.Select(r => r.Label ? 1 : 0).ToArray(),
            N, 1, new SupervisedQuantileOptions { MaxDegreeOfParallelism = 1 });
        Assert.Equal(core.QuantileFunction, f);
        for (int k = 1; k < N; k++) Assert.True(f[k] >= f[k - 1]);
        output.WriteLine($"f = {string.Join(", ", f.Select(v => v.ToString("F3")))}");

        // ML.NET's evaluator reads it; Probability = σ(Score) as ML.NET's logistic regression gives it.
        CalibratedBinaryClassificationMetrics metrics = ml.BinaryClassification.Evaluate(scored);
        output.WriteLine($"test accuracy {metrics.Accuracy:P2}, AUC {metrics.AreaUnderRocCurve:F4}");
        Assert.True(metrics.AreaUnderRocCurve > 0.9, $"AUC {metrics.AreaUnderRocCurve}");
        float[] score = scored.GetColumn<float>("Score").ToArray(), probability = scored.GetColumn<float>("Probability").ToArray();
        for (int r = 0; r < score.Length; r++) Assert.Equal(1 / (1 + Math.Exp(-score[r])), probability[r], 5);
        // The scores are the core model's (in float).
        var s = new double[1];
        core.Score(test[0].Features, s);
        Assert.Equal(s[0], score[0], 4);

        // Save → load in a fresh context: the same outputs, bit for bit, and f read back.
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext(seed: 7);
        ITransformer loaded = fresh.Model.Load(stream, out _);
        IDataView reloaded = loaded.Transform(Load(fresh, test));
        Assert.Equal(score, reloaded.GetColumn<float>("Score").ToArray());
        Assert.Equal(probability, reloaded.GetColumn<float>("Probability").ToArray());
        Assert.Equal(scored.GetColumn<bool>("PredictedLabel").ToArray(), reloaded.GetColumn<bool>("PredictedLabel").ToArray());
        Assert.Equal(f, ((SoftSortingTransformer)((IEnumerable<ITransformer>)loaded).First()).GetTargets("QuantileNormalizedFeatures"));
    }

    [Fact]
    public void The_model_exports_to_onnx_and_onnx_runtime_gives_its_normalized_features_and_scores()
    {
        var ml = new MLContext(seed: 1);
        Example[] rows = Rows(300, 9);
        IDataView data = Load(ml, rows);
        var model = ml.BinaryClassification.Trainers.SupervisedQuantileNormalization(numberOfAlternations: 3).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.ExportToOnnx(model, data, stream);
        OnnxChecker.Check(stream.ToArray());
        using var session = new InferenceSession(stream.ToArray());
        var input = new DenseTensor<float>(rows.SelectMany(r => r.Features).ToArray(), [rows.Length, N]);
        // The label and the class are graph inputs too (ML.NET's converter keeps every input column); their values do not matter.
        var label = new DenseTensor<bool>(new bool[rows.Length], [rows.Length, 1]);
        var text = new DenseTensor<string>(Enumerable.Repeat("", rows.Length).ToArray(), [rows.Length, 1]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Features", input), NamedOnnxValue.CreateFromTensor("Label", label),
            NamedOnnxValue.CreateFromTensor("Class", text)],
            ["QuantileNormalizedFeatures.output", "Score.output", "Probability.output"]);
        IDataView scored = model.Transform(data);
        float[][] normalized = scored.GetColumn<float[]>("QuantileNormalizedFeatures").ToArray();
        float[] score = scored.GetColumn<float>("Score").ToArray(), probability = scored.GetColumn<float>("Probability").ToArray();
        float[] onnxNormalized = results.First(r => r.Name == "QuantileNormalizedFeatures.output").AsTensor<float>().ToArray();
        float[] onnxScore = results.First(r => r.Name == "Score.output").AsTensor<float>().ToArray();
        float[] onnxProbability = results.First(r => r.Name == "Probability.output").AsTensor<float>().ToArray();
        for (int r = 0; r < rows.Length; r++)
        {
            // Within float rounding (the two sum in different orders); ties share the mean of their targets in both.
            for (int j = 0; j < N; j++) Assert.True(Math.Abs(normalized[r][j] - onnxNormalized[r * N + j]) <= 1e-6 * Math.Max(1, Math.Abs(normalized[r][j])), $"row {r} slot {j}");
            Assert.True(Math.Abs(score[r] - onnxScore[r]) <= 1e-5 * Math.Max(1, Math.Abs(score[r])), $"row {r}: score {score[r]:R} against {onnxScore[r]:R}");
            Assert.Equal(probability[r], onnxProbability[r], 5);
        }
    }

    [Fact]
    public void Learning_f_beats_quantile_normalization_to_the_fixed_targets_it_starts_from_on_rank_driven_data()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, Rows(1500, 3)), test = Load(ml, Rows(1000, 4));
        double Auc(int alternations, QuantileTarget start) => ml.BinaryClassification.Evaluate(ml.BinaryClassification.Trainers
            .SupervisedQuantileNormalization(numberOfAlternations: alternations, initialTarget: start).Fit(data).Transform(test)).AreaUnderRocCurve;
        double suquan = Auc(10, QuantileTarget.Learned);
        var fixedTargets = new[] { QuantileTarget.Learned, QuantileTarget.Uniform, QuantileTarget.Normal }.ToDictionary(t => t, t => Auc(0, t));
        output.WriteLine($"test AUC: SUQUAN {suquan:F4}; QN {string.Join(", ", fixedTargets.Select(p => $"{p.Key} {p.Value:F4}"))}");
        foreach ((QuantileTarget target, double auc) in fixedTargets) Assert.True(suquan > auc, $"SUQUAN {suquan:F4} ≤ QN {target} {auc:F4}");
    }

    [Fact]
    public void Multiclass_trainer_keeps_the_label_key_values_evaluates_and_round_trips()
    {
        var ml = new MLContext(seed: 1);
        IDataView raw = Load(ml, Rows(1500, 5));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", "Class")
            .Append(ml.MulticlassClassification.Trainers.SupervisedQuantileNormalization(normalizedColumnName: "Normalized"));
        var model = pipeline.Fit(raw);
        IDataView scored = model.Transform(Load(ml, Rows(500, 6)));
        MulticlassClassificationMetrics metrics = ml.MulticlassClassification.Evaluate(scored);
        output.WriteLine($"multiclass test accuracy {metrics.MacroAccuracy:P2}");
        Assert.True(metrics.MacroAccuracy > 0.7, $"macro accuracy {metrics.MacroAccuracy}");
        VBuffer<ReadOnlyMemory<char>> keys = default;
        scored.Schema["PredictedLabel"].GetKeyValues(ref keys);
        Assert.Equal(new[] { "middle", "low", "high" }.Order(), keys.DenseValues().Select(k => k.ToString()).Order());
        IReadOnlyList<double> f = ((SoftSortingTransformer)model.LastTransformer.First()).GetTargets("Normalized");
        for (int k = 1; k < N; k++) Assert.True(f[k] >= f[k - 1]);

        using var stream = new MemoryStream();
        ml.Model.Save(model, raw.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext();
        ITransformer loaded = fresh.Model.Load(stream, out _);
        IDataView again = loaded.Transform(Load(fresh, Rows(500, 6)));
        Assert.Equal(scored.GetColumn<float[]>("Score").ToArray(), again.GetColumn<float[]>("Score").ToArray());
        Assert.Equal(scored.GetColumn<uint>("PredictedLabel").ToArray(), again.GetColumn<uint>("PredictedLabel").ToArray());
    }

    [Fact]
    public void Rows_with_missing_values_are_skipped_and_counted_or_refused_by_name()
    {
        var ml = new MLContext(seed: 1);
        Example[] rows = Rows(300, 7);
        Example[] holed = rows.Select((r, i) => i % 50 == 3 ? new Example { Features = r.Features.Select((v, j) => j == 5 ? float.NaN : v).ToArray(), Label = r.Label } : r).ToArray();
        var messages = new List<string>();
        ml.Log += (_, e) => { if (e.Message.Contains("skipped")) messages.Add(e.Message); };
        IReadOnlyList<double> Targets(MLContext context, IEnumerable<Example> data, bool throwOnMissing = false) =>
            ((SoftSortingTransformer)context.BinaryClassification.Trainers.SupervisedQuantileNormalization(numberOfAlternations: 2, throwOnMissingValues: throwOnMissing)
                .Fit(Load(context, data)).First()).GetTargets("QuantileNormalizedFeatures");
        // Skipping a row is training without it.
        Assert.Equal(Targets(new MLContext(), rows.Where((_, i) => i % 50 != 3)), Targets(ml, holed));
        Assert.Contains(messages, m => m.Contains("skipped 6 of 300 rows"));
        var e = Assert.ThrowsAny<InvalidOperationException>(() => Targets(new MLContext(), holed, throwOnMissing: true));
        Assert.Contains("Column 'Features' holds NaN at row 3, slot 5", e.Message);

        // A missing key label (0) is a missing label.
        IDataView keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Class", keyData: ml.Data.LoadFromEnumerable(new[] { new { Class = "low" }, new { Class = "high" } }))
            .Fit(Load(ml, rows)).Transform(Load(ml, rows));
        var model = ml.MulticlassClassification.Trainers.SupervisedQuantileNormalization(numberOfAlternations: 1).Fit(keyed);
        Assert.Contains(messages, m => m.Contains("missing label"));
        e = Assert.ThrowsAny<InvalidOperationException>(() => ml.MulticlassClassification.Trainers.SupervisedQuantileNormalization(throwOnMissingValues: true).Fit(keyed));
        Assert.Contains("Column 'Label' holds a missing label at row", e.Message);

        // At scoring, quantile normalization refuses a row without ranks, naming column, row and slot.
        var scoring = ml.BinaryClassification.Trainers.SupervisedQuantileNormalization(numberOfAlternations: 1).Fit(Load(ml, rows));
        e = Assert.ThrowsAny<InvalidOperationException>(() => scoring.Transform(Load(ml, holed)).GetColumn<float>("Score").ToArray());
        Assert.Contains("Column 'Features' holds NaN at row 3, slot 5", e.ToString());   // ML.NET's parallel cursor may wrap it
    }

    [Fact]
    public void Bad_columns_and_settings_are_refused_naming_them()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, Rows(100, 8));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.SupervisedQuantileNormalization(featureColumnName: "Nope").Fit(data));
        Assert.Contains("Could not find input column 'Nope'", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.SupervisedQuantileNormalization(labelColumnName: "Class").Fit(data));
        Assert.Contains("Schema mismatch for label column 'Class': expected Boolean", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.SupervisedQuantileNormalization().Fit(data));
        Assert.Contains("Schema mismatch for label column 'Label': expected Key", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.SupervisedQuantileNormalization(featureColumnName: "Class").Fit(data));
        Assert.Contains("Schema mismatch for input column 'Class'", e.Message);
        // A variable-length vector has no fixed set of ranks.
        var variable = SchemaDefinition.Create(typeof(Example));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.SupervisedQuantileNormalization().Fit(ml.Data.LoadFromEnumerable(Rows(10, 1), variable)));
        Assert.Contains("expected known-size vector of Single", e.Message);
        // Settings: the exception names the parameter.
        Assert.Equal("numberOfAlternations", Assert.Throws<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.SupervisedQuantileNormalization(numberOfAlternations: -1)).ParamName);
        Assert.Equal("l2Regularization", Assert.Throws<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.SupervisedQuantileNormalization(l2Regularization: -1)).ParamName);
        Assert.Equal("initialTarget", Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.SupervisedQuantileNormalization(initialTarget: QuantileTarget.Custom)).ParamName);
        Assert.Equal("featureColumnName", Assert.Throws<ArgumentException>(() => ml.BinaryClassification.Trainers.SupervisedQuantileNormalization(featureColumnName: " ")).ParamName);
        Assert.Equal("normalizedColumnName", Assert.Throws<ArgumentException>(() => ml.BinaryClassification.Trainers.SupervisedQuantileNormalization(normalizedColumnName: "Label")).ParamName);
        // One class only.
        var one = Assert.Throws<ArgumentException>(() => ml.BinaryClassification.Trainers.SupervisedQuantileNormalization().Fit(Load(ml, Rows(20, 1).Select(r => { r.Label = true; return r; }))));
        Assert.Contains("at least two classes", one.Message);
    }
}
