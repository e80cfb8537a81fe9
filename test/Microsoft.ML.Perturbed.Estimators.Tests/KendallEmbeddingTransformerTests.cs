using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

public class KendallEmbeddingTransformerTests
{
    private const int N = 5;

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public float Scalar { get; set; }
    }

    private static readonly float[][] Rows =
    [
        [0.5f, -2f, 3f, 1f, 0.25f],
        [5f, 1f, 2f, 2f, -1f],
        [10f, 20f, 30f, 40f, 50f],
    ];

    private static IDataView Data(MLContext ml, int size = N, float[][]? rows = null)
    {
        var definition = SchemaDefinition.Create(typeof(Row));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        return ml.Data.LoadFromEnumerable((rows ?? Rows).Select(r => new Row { Features = r, Scalar = r[0] }), definition);
    }

    private static float[] Expected(float[] row)
    {
        var phi = new float[PermutationKernels.EmbeddingLength(row.Length)];
        PermutationKernels.Embedding<float>(row, row.Length, phi);
        return phi;
    }

    [Fact]
    public void Fits_transforms_saves_and_reloads_with_the_same_output()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        IEstimator<ITransformer> estimator = ml.Transforms.KendallEmbedding("Pairs", "Features");
        Assert.Equal(NumberDataViewType.Single, estimator.GetOutputSchema(ModelPersistence.MlNetInternals.ShapeOf(data.Schema)).Single(c => c.Name == "Pairs").ItemType);
        ITransformer model = estimator.Fit(data);
        IDataView output = model.Transform(data);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, N * (N - 1) / 2), output.Schema["Pairs"].Type);
        float[][] pairs = output.GetColumn<float[]>("Pairs").ToArray();
        for (int r = 0; r < Rows.Length; r++) Assert.Equal(Expected(Rows[r]), pairs[r]);
        Assert.Equal(new float[] { 0, 0, 0, 0, 1, 1, 0, 0.5f, 0, 0 }, pairs[1]);

        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext(seed: 2);
        ITransformer loaded = fresh.Model.Load(stream, out _);
        Assert.Equal(pairs, loaded.Transform(Data(fresh)).GetColumn<float[]>("Pairs").ToArray());
    }

    [Fact]
    public void The_input_column_defaults_to_the_output_and_is_replaced()
    {
        var ml = new MLContext(seed: 1);
        IDataView output = ml.Transforms.KendallEmbedding("Features").Fit(Data(ml)).Transform(Data(ml));
        Assert.Equal(N * (N - 1) / 2, ((VectorDataViewType)output.Schema["Features"].Type).Size);
        Assert.Equal(Expected(Rows[0]), output.GetColumn<float[]>("Features").First());
    }

    [Fact]
    public void Bad_columns_are_refused_naming_the_column()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        Assert.Contains("'Missing'", Assert.ThrowsAny<Exception>(() => ml.Transforms.KendallEmbedding("Pairs", "Missing").Fit(data)).Message);
        Assert.Contains("'Scalar'", Assert.ThrowsAny<Exception>(() => ml.Transforms.KendallEmbedding("Pairs", "Scalar").Fit(data)).Message);
        Assert.Contains("'Scalar'", Assert.ThrowsAny<Exception>(() => ml.Transforms.KendallEmbedding("Pairs", "Scalar").GetOutputSchema(ModelPersistence.MlNetInternals.ShapeOf(data.Schema))).Message);
        IDataView single = Data(ml, 1, [[1f]]);
        Assert.Contains("'Features'", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.KendallEmbedding("Pairs", "Features").Fit(single)).Message);
        Assert.Equal("outputColumnName", Assert.Throws<ArgumentException>(() => ml.Transforms.KendallEmbedding("")).ParamName);
        IDataView withNaN = Data(ml, N, [[1f, float.NaN, 2f, 3f, 4f]]);
        ITransformer model = ml.Transforms.KendallEmbedding("Pairs", "Features").Fit(withNaN);
        Assert.Contains("'Features'", Assert.ThrowsAny<Exception>(() => model.Transform(withNaN).GetColumn<float[]>("Pairs").ToArray()).Message);
    }
}
