using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Classification;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

public class MulticlassTests(ITestOutputHelper output)
{
    private sealed class Example
    {
        public float[] Features { get; set; } = [];
        public string Label { get; set; } = "";
    }

    /// <summary>Three well-separated Gaussian classes in 5 dimensions, labelled "a", "b", "c".</summary>
    private static IDataView Blobs(MLContext ml, int n, int seed, double separation = 5, bool slotNames = false)
    {
        var rng = new System.Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var rows = Enumerable.Range(0, n).Select(r =>
        {
            int c = r % 3;
            float[] x = Enumerable.Range(0, 5).Select(i => (float)(Normal() + (i == c ? separation : 0))).ToArray();
            return new Example { Features = x, Label = ((char)('a' + c)).ToString() };
        });
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 5);
        if (slotNames)
        {
            var names = new VBuffer<ReadOnlyMemory<char>>(5, Enumerable.Range(0, 5).Select(i => $"x{i}".AsMemory()).ToArray());
            definition["Features"].AddAnnotation("SlotNames", names, new VectorDataViewType(TextDataViewType.Instance, 5));
        }
        return ml.Data.LoadFromEnumerable(rows.ToList(), definition);
    }

    private static IEstimator<ITransformer> Pipeline(MLContext ml, double epsilon = 1.0) =>
        ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(epsilon: epsilon, numberOfIterations: 20));

    [Fact]
    public void Ml_nets_permutation_feature_importance_works_on_the_perturbed_classifier()
    {
        // Features 0–2 carry the classes, 3 and 4 are noise: permuting a class feature must cost accuracy, a noise one not.
        var ml = new MLContext(seed: 1);
        // PFI reads the features' slot names (as ML.NET's Concatenate writes them).
        IDataView data = ml.Data.Cache(Blobs(ml, 300, seed: 7, slotNames: true));
        ITransformer model = Pipeline(ml).Fit(data);
        IDataView prepared = model.Transform(data);
        var importance = ml.MulticlassClassification.PermutationFeatureImportance(model, prepared, permutationCount: 2);
        double[] drop = Enumerable.Range(0, 5).Select(i => importance[$"x{i}"].MicroAccuracy.Mean).ToArray();
        output.WriteLine(string.Join(", ", importance.Select(p => $"{p.Key}: {p.Value.MicroAccuracy.Mean:F3}")));
        Assert.Equal(5, importance.Count);
        for (int i = 0; i < 3; i++) Assert.True(drop[i] < -0.1, $"feature {i}: accuracy change {drop[i]:F3}");
        for (int i = 3; i < 5; i++) Assert.True(Math.Abs(drop[i]) < 0.05, $"noise feature {i}: accuracy change {drop[i]:F3}");
    }

    [Fact]
    public void A_gumbel_model_becomes_ml_nets_own_maximum_entropy_model_with_the_same_scores()
    {
        var ml = new MLContext(seed: 1);
        IDataView raw = ml.Data.Cache(Blobs(ml, 150, seed: 3));
        var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw);
        IDataView data = keys.Transform(raw);
        var ours = ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions { Epsilon = 0.7, NumberOfIterations = 10 }).Fit(data);
        var theirs = ours.ToMaximumEntropy(ml, data.Schema);
        float[][] expected = ours.Transform(data).GetColumn<float[]>("Score").ToArray();
        float[][] actual = theirs.Transform(data).GetColumn<float[]>("Score").ToArray();
        for (int r = 0; r < expected.Length; r++) for (int c = 0; c < 3; c++) Assert.Equal(expected[r][c], actual[r][c], 1e-5);
        Assert.Equal(ours.Transform(data).GetColumn<uint>("PredictedLabel"), theirs.Transform(data).GetColumn<uint>("PredictedLabel"));
        // Its zip holds only ML.NET's own components.
        using var stream = new MemoryStream();
        ml.Model.Save(theirs, data.Schema, stream);
        stream.Position = 0;
        using (var zip = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Read, leaveOpen: true))
        {
            foreach (var entry in zip.Entries)
            {
                using var reader = new StreamReader(entry.Open(), System.Text.Encoding.Latin1);
                Assert.DoesNotContain("Perturbed", reader.ReadToEnd());   // no loader or type of this library is named
            }
        }
        stream.Position = 0;
        ITransformer loaded = new MLContext().Model.Load(stream, out _);
        Assert.IsType<MulticlassPredictionTransformer<Microsoft.ML.Trainers.MaximumEntropyModelParameters>>(loaded);
        var normal = ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions { Noise = Perturbed.Noise.NoiseDistribution.Normal, NumberOfIterations = 1 }).Fit(data);
        Assert.Throws<NotSupportedException>(() => normal.ToMaximumEntropy(ml, data.Schema));
    }

    [Fact]
    public void Separable_classes_are_learned_and_ml_net_evaluates_the_output()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = Blobs(ml, 600, 1), test = Blobs(ml, 300, 2);
        ITransformer model = Pipeline(ml).Fit(train);
        MulticlassClassificationMetrics metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        output.WriteLine($"accuracy {metrics.MacroAccuracy:F3}, log-loss {metrics.LogLoss:F3}");
        // Class means 5 standard deviations apart: the Bayes error is about Φ(−5/√2) ≈ 0.02 % per pair.
        Assert.True(metrics.MicroAccuracy > 0.97, $"accuracy {metrics.MicroAccuracy:F3}");
        Assert.True(metrics.LogLoss < 0.2, $"log-loss {metrics.LogLoss:F3}");
    }

    [Fact]
    public void Scores_are_softmax_of_scores_over_epsilon_and_predicted_label_is_the_argmax()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Blobs(ml, 150, 3, separation: 1);
        const double eps = 0.7;
        ITransformer model = Pipeline(ml, eps).Fit(data);
        var classifier = (PerturbedMulticlassTransformer)((IEnumerable<ITransformer>)model).Last();
        Assert.Equal(new[] { "a", "b", "c" }, classifier.ClassNames);
        IDataView scored = model.Transform(data);
        float[][] features = scored.GetColumn<float[]>("Features").ToArray();
        float[][] scores = scored.GetColumn<float[]>("Score").ToArray();
        uint[] predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        var theta = new float[3];
        for (int r = 0; r < features.Length; r++)
        {
            classifier.Model.Score(features[r], theta);
            double max = theta.Max(), z = theta.Sum(t => Math.Exp((t - max) / eps));
            for (int c = 0; c < 3; c++) Assert.Equal(Math.Exp((theta[c] - max) / eps) / z, scores[r][c], 1e-6);   // within float rounding
            Assert.Equal((uint)Array.IndexOf(theta, theta.Max()) + 1, predicted[r]);
        }
    }

    [Fact]
    public void Ml_net_cross_validation_and_save_load_work()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Blobs(ml, 300, 4);
        var folds = ml.MulticlassClassification.CrossValidate(data, Pipeline(ml), numberOfFolds: 3);
        Assert.All(folds, f => Assert.True(f.Metrics.MicroAccuracy > 0.95));

        ITransformer model = Pipeline(ml).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext();
        fresh.ComponentCatalog.RegisterPerturbed();
        ITransformer loaded = fresh.Model.Load(stream, out _);
        Assert.IsType<PerturbedMulticlassTransformer>(((TransformerChain<ITransformer>)loaded).Last());
        Assert.Equal(model.Transform(data).GetColumn<float[]>("Score").ToArray(), loaded.Transform(data).GetColumn<float[]>("Score").ToArray());
        Assert.Equal(ml.MulticlassClassification.Evaluate(model.Transform(data)).MicroAccuracy, fresh.MulticlassClassification.Evaluate(loaded.Transform(data)).MicroAccuracy);
    }

    private sealed class TypedLabels
    {
        public float[] Features { get; set; } = [];
        public int Digit { get; set; }
        public double Value { get; set; }
        public bool Flag { get; set; }
    }

    private sealed class TypedPredictions
    {
        public int PredictedDigit { get; set; }
        public double PredictedValue { get; set; }
        public bool PredictedFlag { get; set; }
    }

    [Fact]
    public void Predicted_label_carries_the_labels_own_key_values_of_any_type_through_save_load()
    {
        var ml = new MLContext(seed: 1);
        var rng = new System.Random(3);
        var rows = Enumerable.Range(0, 90).Select(i => new TypedLabels
        {
            Features = Enumerable.Range(0, 4).Select(j => (j == i % 2 ? 4f : 0f) + (float)rng.NextDouble()).ToArray(),
            Digit = 7 - 5 * (i % 2), Value = 0.1 + i % 2, Flag = i % 2 == 1,
        }).ToList();
        var definition = SchemaDefinition.Create(typeof(TypedLabels));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        IDataView data = ml.Data.LoadFromEnumerable(rows, definition);
        foreach ((string label, Func<TypedLabels, TypedPredictions, bool> same) in new (string, Func<TypedLabels, TypedPredictions, bool>)[]
        {
            ("Digit", (r, p) => r.Digit == p.PredictedDigit),
            ("Value", (r, p) => r.Value == p.PredictedValue),
            ("Flag", (r, p) => r.Flag == p.PredictedFlag),
        })
        {
            ITransformer model = ml.Transforms.Conversion.MapValueToKey("Label", label)
                .Append(ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(numberOfIterations: 20)).Fit(data);
            using var stream = new MemoryStream();
            ml.Model.Save(model, data.Schema, stream);
            stream.Position = 0;
            var fresh = new MLContext();
            ITransformer loaded = fresh.Model.Load(stream, out _);
            foreach ((MLContext context, ITransformer m) in new[] { (ml, model), (fresh, loaded) })
            {
                IDataView scoredRows = m.Transform(data);
                IDataView predicted = context.Transforms.Conversion.MapKeyToValue("Predicted" + label, "PredictedLabel").Fit(scoredRows).Transform(scoredRows);
                Assert.Equal(data.Schema[label].Type, predicted.Schema["Predicted" + label].Type);
                var predictions = context.Data.CreateEnumerable<TypedPredictions>(predicted, reuseRowObject: false, ignoreMissingColumns: true).ToList();
                Assert.True(rows.Zip(predictions).Count(p => same(p.First, p.Second)) >= 85, $"{label}: the predictions did not map back to the label's values.");
            }
        }

        // A key without values (a typed key column): PredictedLabel has none either, as ML.NET's trainers do.
        IDataView plain = ml.Data.LoadFromEnumerable(rows.Select((r, i) => new KeyOnly { Features = r.Features, Label = (uint)(i % 2) }).ToList(), KeyOnly.Definition());
        Assert.Null(plain.Schema["Label"].Annotations.Schema.GetColumnOrNull("KeyValues"));
        IDataView scored = ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(numberOfIterations: 2).Fit(plain).Transform(plain);
        Assert.Null(scored.Schema["PredictedLabel"].Annotations.Schema.GetColumnOrNull("KeyValues"));
    }

    private sealed class KeyOnly
    {
        public float[] Features { get; set; } = [];
        public uint Label { get; set; }

        public static SchemaDefinition Definition()
        {
            var definition = SchemaDefinition.Create(typeof(KeyOnly));
            definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
            definition["Label"].ColumnType = new KeyDataViewType(typeof(uint), 2);   // POCO keys are 0-based
            return definition;
        }
    }

    [Fact]
    public void Bad_labels_throw()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Blobs(ml, 30, 5);
        var notKey = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.PerturbedFenchelYoung().Fit(data));
        Assert.Contains("Schema mismatch for label column 'Label': expected Key", notKey.Message);
        // A key with a value outside the mapping becomes key 0 (missing): reported with its row.
        ITransformer toKey = ml.Transforms.Conversion.MapValueToKey("Label").Fit(Blobs(ml, 2, 6));   // knows "a" and "b" only
        var strict = ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions { ThrowOnMissingValues = true });
        var missing = Assert.Throws<InvalidOperationException>(() => strict.Fit(toKey.Transform(data)));
        Assert.Contains("row 2 has a missing label", missing.Message);
        // By default such rows are skipped (as ML.NET's trainers skip them) and training goes on with the rest.
        var skipped = ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions { NumberOfIterations = 2 }).Fit(toKey.Transform(data));
        Assert.Equal(2, skipped.HeadModel.Dimension);
    }

    [Fact]
    public void Optdigits_accuracy_when_the_data_is_present()
    {
        string? path = LabelRankingTests.DataFile("classification", "optdigits.csv");
        if (path is null)
        {
            output.WriteLine("Skipped: ../shared/data/classification/optdigits.csv is not present.");
            return;
        }
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromTextFile(path, [new TextLoader.Column("Features", DataKind.Single, 0, 63), new TextLoader.Column("Label", DataKind.Single, 64)],
            separatorChar: ',', hasHeader: true);
        DataOperationsCatalog.TrainTestData split = ml.Data.TrainTestSplit(data, 0.2, seed: 1);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .Append(ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(numberOfIterations: 20));
        double accuracy = ml.MulticlassClassification.Evaluate(pipeline.Fit(split.TrainSet).Transform(split.TestSet)).MicroAccuracy;
        output.WriteLine($"optdigits hold-out accuracy {accuracy:F4}");
        // A linear model reaches about 96 % on optdigits (multinomial logistic regression); 0.94 guards against regressions.
        Assert.True(accuracy > 0.94, $"optdigits accuracy {accuracy:F4}");
    }
}

public class MulticlassTrainingControlTests
{
    private sealed class Example
    {
        public float[] Features { get; set; } = [];
        public uint Label { get; set; }
    }

    private static IDataView Data(MLContext ml, int n, int p = 4, int seed = 1)
    {
        var rng = new System.Random(seed);
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, p);
        definition["Label"].ColumnType = new KeyDataViewType(typeof(uint), 3);
        return ml.Data.LoadFromEnumerable(Enumerable.Range(0, n).Select(r => new Example
        {
            Features = Enumerable.Range(0, p).Select(i => (float)(rng.NextDouble() + (i == r % 3 ? 1 : 0))).ToArray(),
            Label = (uint)(r % 3),   // POCO keys are 0-based
        }).ToList(), definition);
    }

    [Fact]
    public void Normal_noise_scores_are_the_monte_carlo_perturbed_argmax_and_survive_save_load()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml, 90);
        var model = ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions { Noise = Perturbed.Noise.NoiseDistribution.Normal, NumberOfIterations = 5, Epsilon = 0.5 }).Fit(data);
        float[][] features = model.Transform(data).GetColumn<float[]>("Features").ToArray();
        float[][] scores = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        var optimizer = new PerturbedOptimizer(new Perturbed.Oracles.ArgmaxOracle(3),
            new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = PerturbedMulticlassTransformer.ScoringSamples, Noise = Perturbed.Noise.NoiseDistribution.Normal });
        var theta = new float[3];
        var expected = new float[3];
        for (int r = 0; r < 5; r++)
        {
            model.Model.Score(features[r], theta);
            optimizer.Forward(theta, expected);
            // The Monte-Carlo ŷ, smoothed by half a count per class: (ŷᵢM + ½)/(M + k/2), never 0.
            const double m = PerturbedMulticlassTransformer.ScoringSamples;
            for (int c = 0; c < 3; c++) Assert.Equal((float)((expected[c] * m + 0.5) / (m + 1.5)), scores[r][c]);
            Assert.All(scores[r], p => Assert.True(p > 0));
            Assert.Equal(1f, scores[r].Sum(), 4);
        }
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext();
        fresh.ComponentCatalog.RegisterPerturbed();
        var loaded = (PerturbedMulticlassTransformer)fresh.Model.Load(stream, out _);
        Assert.Equal("Normal", loaded.Noise.Name);
        Assert.Equal(scores, loaded.Transform(data).GetColumn<float[]>("Score").ToArray());
    }

    [Fact]
    public void CancelExecution_stops_training()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml, 600);
        var trainer = ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions { NumberOfIterations = 100_000 });
        // ML.NET 5.0.1 keeps CancelExecution non-public; AutoML calls it to stop trainers. Reach it as AutoML would.
        typeof(MLContext).GetMethod("CancelExecution", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)!.Invoke(ml, null);
        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Fit(data));
    }

    private static void Cancel(MLContext ml) =>
        typeof(MLContext).GetMethod("CancelExecution", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)!.Invoke(ml, null);

    [Fact]
    public void Cancellation_before_a_short_fit_and_during_a_long_one_is_honoured()
    {
        // Before: a one-epoch Fit on 30 rows ends long before any timer would fire; it must not train at all.
        var before = new MLContext(seed: 1);
        IDataView small = Data(before, 30);
        Cancel(before);
        Assert.ThrowsAny<OperationCanceledException>(() => before.MulticlassClassification.Trainers.PerturbedFenchelYoung(numberOfIterations: 1).Fit(small));
        // During: cancel once the first epoch is logged.
        var during = new MLContext(seed: 1);
        IDataView data = Data(during, 300);
        during.Log += (_, e) => { if (e.Message.Contains("epoch 1:", StringComparison.Ordinal)) Cancel(during); };
        Assert.ThrowsAny<OperationCanceledException>(() => during.MulticlassClassification.Trainers.PerturbedFenchelYoung(numberOfIterations: 100_000).Fit(data));
    }

    [Fact]
    public void Validation_data_stops_training_early_and_epochs_are_logged()
    {
        var ml = new MLContext(seed: 1);
        var epochs = new List<string>();
        ml.Log += (_, e) => { if (e.Message.Contains("validation loss")) lock (epochs) epochs.Add(e.Message); };
        IDataView train = Data(ml, 300, seed: 2), valid = Data(ml, 150, seed: 3);
        var trainer = ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions { NumberOfIterations = 500, LearningRate = 0.5 });
        PerturbedMulticlassTransformer model = trainer.Fit(train, valid);
        Assert.InRange(epochs.Count, 2, 499);
        Assert.True(ml.MulticlassClassification.Evaluate(model.Transform(valid)).MicroAccuracy > 0.6);
    }

    [Fact]
    public void A_model_rejects_features_of_another_size()
    {
        var ml = new MLContext(seed: 1);
        PerturbedMulticlassTransformer model = ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(numberOfIterations: 1).Fit(Data(ml, 30));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(Data(ml, 10, p: 5)));
        Assert.Contains("Schema mismatch for input column 'Features': expected Vector<Single, 4>", e.Message);
    }
}
