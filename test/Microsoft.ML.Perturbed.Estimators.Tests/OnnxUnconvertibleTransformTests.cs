using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// A pipeline with a transform that cannot save itself as ONNX is refused naming that transform, its position in the
/// chain and what the converter expects (issue "right or refused", item 12).
/// </summary>
public class OnnxUnconvertibleTransformTests
{
    private const int P = 4;

    private sealed class Row
    {
        [VectorType(P)]
        public float[] Features { get; set; } = [];
    }

    private sealed class Extra
    {
        public float Total { get; set; }
    }

    private static IDataView Data(MLContext ml) =>
        ml.Data.LoadFromEnumerable(Enumerable.Range(0, 8).Select(r => new Row { Features = Enumerable.Range(0, P).Select(j => (float)((r * 7 + j * 3) % 5)).ToArray() }));

    private static PerturbedPredictionTransformer Ranking()
    {
        var labelSchema = new DataViewSchema.Builder();
        labelSchema.AddColumn("Label", new VectorDataViewType(NumberDataViewType.Single, 3));
        PerturbedHead head = new RankingHead().Bind(labelSchema.ToSchema()["Label"]);
        var scores = new AffineModel(Enumerable.Range(0, 3 * P).Select(i => (i % 5 - 2) / 4f).ToArray(), [0.25f, 0, -0.25f]);
        return head.CreateTransformer(new PerturbedModelParameters(scores, head, 0.5, NoiseDistribution.Gumbel), "Features");
    }

    [Fact]
    public void A_custom_mapping_in_the_pipeline_is_named_with_its_position()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        TransformerChain<ITransformer> front = ml.Transforms.NormalizeMinMax("Features")
            .Append(ml.Transforms.CustomMapping<Row, Extra>((row, extra) => extra.Total = row.Features.Sum(), contractName: null))
            .Fit(data)
            .Append<ITransformer>(Ranking());
        // The same pipeline as one flat chain and with the front part nested: the position counts the steps that run.
        foreach (ITransformer model in new ITransformer[] { front, new TransformerChain<ITransformer>(new TransformerChain<ITransformer>(front.Take(2).ToArray()), front.Last()) })
        {
            var e = Assert.Throws<NotSupportedException>(() => ml.Model.ExportToOnnx(model, data, new MemoryStream()));
            Assert.Contains("Transform 2 of 3 in the pipeline, CustomMappingTransformer<Row, Extra>, cannot be converted to ONNX", e.Message);
            Assert.Contains("ICanSaveOnnx", e.Message);
            Assert.Contains("Expected transforms that can save themselves as ONNX", e.Message);
        }
        // Without it the same pipeline exports.
        var convertible = new TransformerChain<ITransformer>(front.First(), front.Last());
        using var stream = new MemoryStream();
        ml.Model.ExportToOnnx(convertible, data, stream);
        Assert.True(stream.Length > 0);
    }

    [Fact]
    public void An_unconvertible_transform_alone_is_transform_1_of_1()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        ITransformer mapping = ml.Transforms.CustomMapping<Row, Extra>((row, extra) => extra.Total = row.Features.Sum(), contractName: null).Fit(data);
        var e = Assert.Throws<NotSupportedException>(() => ml.Model.ExportToOnnx(mapping, data, new MemoryStream()));
        Assert.Contains("Transform 1 of 1 in the pipeline, CustomMappingTransformer<Row, Extra>", e.Message);
    }
}
