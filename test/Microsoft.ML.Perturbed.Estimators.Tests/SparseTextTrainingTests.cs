using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Classification;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>The data ML.NET users have: FeaturizeText output (sparse, wide), trained sparse, in memory or streamed.</summary>
public sealed class SparseTextTrainingTests
{
    private sealed class Document
    {
        public string Text { get; set; } = "";
        public string Topic { get; set; } = "";
    }

    /// <summary>Documents of four topics: common words from a shared vocabulary plus a few words of their topic.</summary>
    private static List<Document> Corpus(int n, int seed)
    {
        var random = new System.Random(seed);
        string[] topics = ["astronomy", "cooking", "sailing", "music"];
        string[][] words =
        [
            ["star", "orbit", "telescope", "planet", "comet"], ["oven", "flour", "recipe", "simmer", "spice"],
            ["mast", "keel", "harbour", "tide", "knot"], ["chord", "tempo", "violin", "melody", "rhythm"],
        ];
        string[] common = Enumerable.Range(0, 300).Select(i => $"w{i}").ToArray();
        return Enumerable.Range(0, n).Select(_ =>
        {
            int t = random.Next(topics.Length);
            var text = Enumerable.Range(0, 12).Select(_ => common[(int)Math.Min(common.Length - 1, -40 * Math.Log(1 - random.NextDouble()))])
                .Concat(Enumerable.Range(0, 3).Select(_ => words[t][random.Next(5)]))
                .OrderBy(_ => random.Next());
            return new Document { Text = string.Join(' ', text), Topic = topics[t] };
        }).ToList();
    }

    [Fact]
    public void FeaturizeText_output_trains_sparse_in_memory_and_streamed_with_a_streamed_hold_out()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Corpus(600, 1)), test = ml.Data.LoadFromEnumerable(Corpus(300, 2));
        var featurize = ml.Transforms.Conversion.MapValueToKey("Label", nameof(Document.Topic))
            .Append(ml.Transforms.Text.FeaturizeText("Features", nameof(Document.Text)));
        ITransformer features = featurize.Fit(train);
        IDataView trainFeatures = ml.Data.Cache(features.Transform(train)), testFeatures = features.Transform(test);
        int width = ((VectorDataViewType)trainFeatures.Schema["Features"].Type).Size;
        Assert.True(width > 2000, $"FeaturizeText gave {width} slots.");

        var log = new List<string>();
        ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
        foreach (TrainingDataLoading loading in Enum.GetValues<TrainingDataLoading>())
        {
            var options = new PerturbedMulticlassOptions { NumberOfIterations = 10, Seed = 3, DataLoading = loading, ValidationFraction = 0.2, InMemoryBudgetMegabytes = loading == TrainingDataLoading.Auto ? 0 : 256 };
            PerturbedMulticlassTransformer model = ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(options).Fit(trainFeatures);
            MulticlassClassificationMetrics metrics = ml.MulticlassClassification.Evaluate(model.Transform(testFeatures));
            Assert.True(metrics.MicroAccuracy > 0.9, $"{loading}: accuracy {metrics.MicroAccuracy}.");
        }
        // Auto with a zero budget streamed instead of holding the rows, and said so.
        Assert.Contains(log, m => m.Contains("streaming them on every pass instead", StringComparison.Ordinal));
        Assert.Contains(log, m => m.Contains("validation loss", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_feature_at_scoring_gives_a_missing_prediction_not_an_exception()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Corpus(200, 3));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(Document.Topic))
            .Append(ml.Transforms.Text.FeaturizeText("Features", nameof(Document.Text)))
            .Append(ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions { NumberOfIterations = 3, Seed = 1 }));
        TransformerChain<PerturbedMulticlassTransformer> model = pipeline.Fit(train);
        // Replace one row's features by NaN downstream of the featurizer.
        PerturbedMulticlassTransformer transformer = model.LastTransformer;
        IDataView featured = model.Take(2).Aggregate(train, (d, t) => t.Transform(d));
        int width = ((VectorDataViewType)featured.Schema["Features"].Type).Size;
        var rows = featured.GetColumn<float[]>("Features").Take(3).Select((f, i) => new Row { Features = i == 1 ? Enumerable.Repeat(float.NaN, width).ToArray() : f }).ToList();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        IDataView scored = transformer.Transform(ml.Data.LoadFromEnumerable(rows, schema));
        float[][] scores = scored.GetColumn<float[]>("Score").ToArray();
        Assert.All(scores[1], s => Assert.True(float.IsNaN(s)));
        Assert.All(scores[0], s => Assert.True(float.IsFinite(s)));
        uint[] predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        Assert.Equal(0u, predicted[1]);
        Assert.NotEqual(0u, predicted[0]);
    }

    [Fact]
    public void A_variable_size_feature_column_is_refused_with_the_expected_type()
    {
        var ml = new MLContext(seed: 1);
        // Tokens hashed to a variable number of slots per row: ML.NET's type is Vector<Single> of unknown size.
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new Row { Features = [1, 2], Topic = "a" }, new Row { Features = [3], Topic = "b" } });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.PerturbedFenchelYoung().Fit(
            ml.Transforms.Conversion.MapValueToKey("Label", "Topic").Fit(data).Transform(data)));
        Assert.Contains("Schema mismatch for input column 'Features': expected known-size vector of Single, got Vector<Single>", e.Message);
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public string Topic { get; set; } = "";
    }
}
