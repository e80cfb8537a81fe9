using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Estimators.Ranking;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Training;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

public class LabelRankingTests(ITestOutputHelper output)
{
    private sealed class Example
    {
        public float[] Features { get; set; } = [];
        public float[] Label { get; set; } = [];
    }

    private static SchemaDefinition Definition(int p, int k)
    {
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, p);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, k);
        return definition;
    }

    /// <summary>The paper's synthetic task: x ~ N(0, I), label = ranking (1 = largest) of xᵀW₀ + σz.</summary>
    private static IDataView Synthetic(MLContext ml, int n, int p, int k, double sigma, int seed)
    {
        var rng = new System.Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        double[,] w0 = new double[k, p];
        for (int j = 0; j < k; j++) for (int i = 0; i < p; i++) w0[j, i] = Normal();
        var rows = new List<Example>();
        for (int r = 0; r < n; r++)
        {
            float[] x = Enumerable.Range(0, p).Select(_ => (float)Normal()).ToArray();
            double[] score = Enumerable.Range(0, k).Select(j => Enumerable.Range(0, p).Sum(i => w0[j, i] * x[i]) + sigma * Normal()).ToArray();
            int[] order = Enumerable.Range(0, k).OrderByDescending(j => score[j]).ToArray();
            var label = new float[k];
            for (int pos = 0; pos < k; pos++) label[order[pos]] = pos + 1;
            rows.Add(new Example { Features = x, Label = label });
        }
        return ml.Data.LoadFromEnumerable(rows, Definition(p, k));
    }

    [Theory]
    [InlineData(StructuredLossKind.Blackbox)]
    [InlineData(StructuredLossKind.IdentityWithProjection)]
    [InlineData(StructuredLossKind.SpoPlus)]
    [InlineData(StructuredLossKind.DirectLoss)]
    [InlineData(StructuredLossKind.PerturbedSquared)]
    public void Every_method_trains_through_the_label_ranking_options_and_round_trips(StructuredLossKind loss)
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.Cache(Synthetic(ml, 400, 10, 6, sigma: 0.1, seed: 3));
        var trainer = ml.LabelRanking().Trainers.PerturbedFenchelYoung(new PerturbedLabelRankingOptions
        {
            Loss = loss, NumberOfIterations = 30, Seed = 2, Margin = loss == StructuredLossKind.IdentityWithProjection ? 0.05 : 0,
        });
        ITransformer model = trainer.Fit(data);
        IDataView scored = model.Transform(data);
        double rho = ml.LabelRanking().Evaluate(scored).Spearman;
        output.WriteLine($"{loss}: training Spearman {rho:F3}");
        Assert.True(rho > 0.8, $"{loss}: Spearman {rho:F3}");
        // The learned noise scale of the direct loss is a training device only: the predictor scores the 6 labels.
        Assert.Equal(6, ((VectorDataViewType)scored.Schema["Score"].Type).Size);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext();
        fresh.ComponentCatalog.RegisterPerturbed();
        ITransformer loaded = fresh.Model.Load(stream, out _);
        Assert.Equal(scored.GetColumn<float[]>("PredictedRanking").ToArray(), loaded.Transform(data).GetColumn<float[]>("PredictedRanking").ToArray());
    }

    [Fact]
    public void Recovers_the_synthetic_ranking_model_in_cross_validation()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Synthetic(ml, 600, 20, 8, sigma: 0.1, seed: 2);
        var trainer = ml.LabelRanking().Trainers.PerturbedFenchelYoung(numberOfIterations: 30);
        IReadOnlyList<LabelRankingCrossValidationResult> folds = ml.LabelRanking().CrossValidate(data, trainer, numberOfFolds: 5);
        double rho = folds.Average(f => f.Metrics.Spearman);
        output.WriteLine($"Spearman {rho:F3}, Kendall {folds.Average(f => f.Metrics.KendallTau):F3}, exact {folds.Average(f => f.Metrics.ExactMatch):F3}");
        // Labels are the ranking of an exactly affine function (noise σ = 0.1 against score gaps of order √20/8): a correct
        // learner ranks held-out rows nearly perfectly; 0.85 leaves room for 480 training rows and 30 epochs.
        Assert.True(rho > 0.85, $"cross-validated Spearman {rho:F3}");
        Assert.Equal(5, folds.Count);
    }

    [Fact]
    public void Evaluate_computes_the_metrics_exactly()
    {
        var ml = new MLContext(seed: 1);
        var definition = SchemaDefinition.Create(typeof(Scored));
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        definition["PredictedRanking"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        IDataView scored = ml.Data.LoadFromEnumerable(new[]
        {
            new Scored { Label = [1, 2, 3, 4], PredictedRanking = [1, 2, 3, 4] },   // perfect
            new Scored { Label = [1, 2, 3, 4], PredictedRanking = [4, 3, 2, 1] },   // reversed
            new Scored { Label = [2, 1, 3, 4], PredictedRanking = [1, 2, 3, 4] },   // one swap
        }, definition);
        LabelRankingMetrics m = ml.LabelRanking().Evaluate(scored);
        // One swap of adjacent items: ρ = 1 − 6·2/(4·15) = 0.8, τ = (5 − 1)/6.
        Assert.Equal((1 - 1 + 0.8) / 3, m.Spearman, 12);
        Assert.Equal((1 - 1 + 4.0 / 6) / 3, m.KendallTau, 12);
        Assert.Equal(1.0 / 3, m.ExactMatch, 12);
        // Positions 1 and 2 are right only in the perfect row; positions 3 and 4 also in the one-swap row.
        double[] expected = [1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], m.PerPositionAccuracy[i], 12);
        Assert.Equal(3, m.Rows);
    }

    private sealed class Scored
    {
        public float[] Label { get; set; } = [];
        public float[] PredictedRanking { get; set; } = [];
    }

    [Fact]
    public void Model_saves_and_loads_in_a_fresh_context_and_the_seed_makes_training_repeatable()
    {
        var ml = new MLContext(seed: 5);
        IDataView data = Synthetic(ml, 200, 6, 4, 0.3, seed: 3);
        PerturbedPredictionTransformer model = ml.LabelRanking().Trainers.PerturbedFenchelYoung(numberOfIterations: 5).Fit(data);
        // The trainer draws its seed from the context's random source, like ML.NET's own trainers: the same seed and the
        // same sequence of calls give the same model.
        var again = new MLContext(seed: 5);
        IDataView sameData = Synthetic(again, 200, 6, 4, 0.3, seed: 3);
        PerturbedPredictionTransformer same = again.LabelRanking().Trainers.PerturbedFenchelYoung(numberOfIterations: 5).Fit(sameData);
        Assert.Equal(((AffineModel)model.Model).Weights.ToArray(), ((AffineModel)same.Model).Weights.ToArray());

        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext();
        fresh.ComponentCatalog.RegisterPerturbed();
        ITransformer loaded = fresh.Model.Load(stream, out _);
        Assert.IsType<PerturbedPredictionTransformer>(loaded);
        IDataView a = model.Transform(data), b = loaded.Transform(data);
        Assert.Equal(a.GetColumn<float[]>("Score").ToArray(), b.GetColumn<float[]>("Score").ToArray());
        Assert.Equal(a.GetColumn<float[]>("PredictedRanking").ToArray(), b.GetColumn<float[]>("PredictedRanking").ToArray());
        Assert.All(a.GetColumn<float[]>("PredictedRanking"), r => Assert.Equal(new float[] { 1, 2, 3, 4 }, r.Order()));
    }

    [Fact]
    public void Bad_labels_and_features_throw_naming_the_column_and_the_first_bad_row()
    {
        var ml = new MLContext(seed: 1);
        IDataView Rows(params (float[] X, float[] Y)[] rows) =>
            ml.Data.LoadFromEnumerable(rows.Select(r => new Example { Features = r.X, Label = r.Y }), Definition(2, 3));
        var trainer = ml.LabelRanking().Trainers.PerturbedFenchelYoung(numberOfIterations: 1);
        var duplicate = Assert.Throws<InvalidOperationException>(() => trainer.Fit(Rows(([1, 2], [1, 2, 3]), ([1, 2], [1, 1, 3]))));
        Assert.Contains("Column 'Label' row 1 is not a ranking of 1..3: rank 1 appears twice", duplicate.Message);
        var range = Assert.Throws<InvalidOperationException>(() => trainer.Fit(Rows(([1, 2], [1, 2, 4]))));
        Assert.Contains("row 0", range.Message);
        Assert.Contains("expected an integer rank in [1, 3]", range.Message);
        // Missing values: skipped by default (as ML.NET's trainers do), refused with the option.
        var strict = ml.LabelRanking().Trainers.PerturbedFenchelYoung(new PerturbedLabelRankingOptions { NumberOfIterations = 1, ThrowOnMissingValues = true });
        var nan = Assert.Throws<InvalidOperationException>(() => strict.Fit(Rows(([1, 2], [1, 2, 3]), ([float.NaN, 2], [3, 2, 1]))));
        Assert.Contains("Column 'Features' holds NaN at row 1, slot 0", nan.Message);
        var nanLabel = Assert.Throws<InvalidOperationException>(() => strict.Fit(Rows(([1, 2], [1, 2, 3]), ([1, 2], [3, float.PositiveInfinity, 1]))));
        Assert.Contains("Column 'Label' holds Infinity at row 1, slot 1", nanLabel.Message);
        Assert.Contains("no rows", Assert.Throws<InvalidOperationException>(() => trainer.Fit(Rows())).Message);
        Assert.Contains("no usable rows: all 1 rows have missing values", Assert.Throws<InvalidOperationException>(() => trainer.Fit(Rows(([float.NaN, 2], [1, 2, 3])))).Message);
        // Skipping a row with a NaN feature gives the model of the data without that row, bit for bit.
        (float[] X, float[] Y)[] clean = [([1, 2], [1, 2, 3]), ([2, -1], [3, 2, 1]), ([0.5f, 1], [2, 1, 3])];
        var seeded = ml.LabelRanking().Trainers.PerturbedFenchelYoung(new PerturbedLabelRankingOptions { NumberOfIterations = 3, Seed = 4 });
        float[] Weights(PerturbedPredictionTransformer t) => ((Microsoft.ML.Perturbed.Training.AffineModel)t.Model).Weights.ToArray();
        Assert.Equal(Weights(seeded.Fit(Rows(clean))), Weights(seeded.Fit(Rows([clean[0], ([float.NaN, 1], [1, 3, 2]), clean[1], clean[2]]))));
        var missing = ml.LabelRanking().Trainers.PerturbedFenchelYoung(labelColumnName: "Ranks");
        Assert.Contains("Could not find input column 'Ranks'", Assert.Throws<ArgumentOutOfRangeException>(() => missing.Fit(Rows(([1, 2], [1, 2, 3])))).Message);
    }

    private sealed class Ranked
    {
        public float[] Score { get; set; } = [];
        public float[] PredictedRanking { get; set; } = [];
    }

    [Fact]
    public void A_prediction_engine_answers_a_row_with_a_missing_feature_with_a_missing_ranking()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(new[]
        {
            new Example { Features = [1, 2], Label = [1, 2, 3] }, new Example { Features = [2, -1], Label = [3, 2, 1] },
        }, Definition(2, 3));
        PerturbedPredictionTransformer model = ml.LabelRanking().Trainers.PerturbedFenchelYoung(new PerturbedLabelRankingOptions { NumberOfIterations = 2, Seed = 1 }).Fit(data);
        var engine = ml.Model.CreatePredictionEngine<Example, Ranked>(model, inputSchemaDefinition: Definition(2, 3));
        Ranked missing = engine.Predict(new Example { Features = [float.NaN, 1], Label = [1, 2, 3] });
        Assert.All(missing.Score, s => Assert.True(float.IsNaN(s)));
        Assert.All(missing.PredictedRanking, r => Assert.True(float.IsNaN(r)));
        Ranked fine = engine.Predict(new Example { Features = [1, 1], Label = [1, 2, 3] });
        Assert.Equal(new float[] { 1, 2, 3 }, fine.PredictedRanking.Order());
    }

    [Fact]
    public void Iris_cross_validated_spearman_matches_the_published_number_when_the_data_is_present()
    {
        string? path = DataFile("label_ranking", "iris.csv");
        if (path is null)
        {
            output.WriteLine("Skipped: ../shared/data/label_ranking/iris.csv is not present.");
            return;
        }
        var ml = new MLContext(seed: 1);
        string[] header = File.ReadLines(path).First().Split(',');
        int p = header.Count(h => h.StartsWith('A')), k = header.Count(h => h.StartsWith('L'));
        IDataView data = ml.Data.LoadFromTextFile(path, [new TextLoader.Column("Features", DataKind.Single, 0, p - 1), new TextLoader.Column("Label", DataKind.Single, p, p + k - 1)],
            separatorChar: ',', hasHeader: true);
        var pipeline = ml.Transforms.NormalizeMeanVariance("Features")
            .Append(ml.LabelRanking().Trainers.PerturbedFenchelYoung(new PerturbedLabelRankingOptions { NumberOfIterations = 50, Loss = StructuredLossKind.FenchelYoung }));
        double rho = ml.LabelRanking().CrossValidate(data, pipeline, numberOfFolds: 10).Average(f => f.Metrics.Spearman);
        output.WriteLine($"iris 10-fold Spearman {rho:F3} (published 0.81)");
        Assert.True(rho >= 0.79, $"iris Spearman {rho:F3} is more than 0.02 below the published 0.81");
    }

    /// <summary>../shared/data/&lt;folder&gt;/&lt;file&gt; beside the repository, or null.</summary>
    internal static string? DataFile(string folder, string file)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.Perturbed.slnx"))) dir = dir.Parent;
        string? path = dir?.Parent is { } parent ? Path.Combine(parent.FullName, "shared", "data", folder, file) : null;
        return path is not null && File.Exists(path) ? path : null;
    }

    [Fact]
    public void Corrupt_model_files_are_refused_never_silently_different()
    {
        // Fuzz over saved models: every flipped byte and every truncation either fails to load (or to score) with an
        // exception, or — where the byte is one the zip or ML.NET does not read — loads and predicts exactly the same.
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.Cache(Synthetic(ml, 60, 4, 3, sigma: 0.1, seed: 3));
        // Every component kind: the label-ranking predictor, a decision head's predictor, and a soft-sorting transform.
        var topRows = ml.Data.CreateEnumerable<Example>(data, false).Select(e => new Example { Features = e.Features, Label = e.Label.Select(r => r == 1 ? 1f : 0f).ToArray() }).ToList();
        IDataView top = ml.Data.LoadFromEnumerable(topRows, Definition(4, 3));
        foreach ((ITransformer model, IDataView input, string column) in new (ITransformer, IDataView, string)[]
        {
            (ml.LabelRanking().Trainers.PerturbedFenchelYoung(new PerturbedLabelRankingOptions { NumberOfIterations = 3, Seed = 2 }).Fit(data), data, "Score"),
            (ml.StructuredPrediction().Trainers.TopK(1, new() { NumberOfIterations = 2, Seed = 2 }).Fit(top), top, "Prediction"),
            (ml.Transforms.SoftRank("Ranks", "Features", epsilon: 0.5).Fit(data), data, "Ranks"),
        })
        {
            Fuzz(model, input, column);
        }

        void Fuzz(ITransformer model, IDataView input, string column)
        {
        using var saved = new MemoryStream();
        ml.Model.Save(model, input.Schema, saved);
        byte[] bytes = saved.ToArray();
        float[][] expected = model.Transform(input).GetColumn<float[]>(column).ToArray();
        var rng = new System.Random(4);
        int refused = 0, same = 0;
        for (int trial = 0; trial < 150; trial++)
        {
            byte[] corrupt;
            if (trial % 3 == 0)
            {
                corrupt = bytes.AsSpan(0, rng.Next(bytes.Length)).ToArray();
            }
            else
            {
                corrupt = (byte[])bytes.Clone();
                corrupt[rng.Next(corrupt.Length)] ^= (byte)(1 << rng.Next(8));
            }
            var fresh = new MLContext();
            fresh.ComponentCatalog.RegisterPerturbed();
            float[][] scores;
            try
            {
                // LoadChecked: ML.NET's Load with our refusals unwrapped (ML.NET calls loaders by reflection).
                ITransformer loaded = fresh.Model.LoadChecked(new MemoryStream(corrupt), out _);
                scores = loaded.Transform(input).GetColumn<float[]>(column).ToArray();
            }
            catch (Exception inner)
            {
                Assert.False(inner is System.Reflection.TargetInvocationException or FileNotFoundException, $"trial {trial}: wrapped {inner.GetType().Name}: {inner.Message}");
                Assert.True(inner is FormatException or InvalidDataException or InvalidOperationException or ArgumentException or IOException or NotSupportedException,
                    $"trial {trial}: unexpected {inner.GetType().Name}: {inner.Message}");
                refused++;
                continue;
            }
            Assert.True(expected.Zip(scores).All(p => p.First.SequenceEqual(p.Second)), $"trial {trial}: a corrupt model loaded and scored differently");
            same++;
        }
        output.WriteLine($"{model.GetType().Name}: {refused} refused, {same} loaded unchanged");
        Assert.True(refused > 50);
        }
    }


}
