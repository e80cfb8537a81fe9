using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.TorchSharp.Tests;

/// <summary>Same seed, same model on the TorchSharp CPU device (issue "right or refused", item 1).</summary>
public class TorchReproducibilityTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void The_same_seed_trains_the_same_model_twice_affine_and_mlp(bool mlp, bool lossOnDevice)
    {
        var random = new System.Random(5);
        const int n = 96, p = 7, d = 4;
        float[] x = Enumerable.Range(0, n * p).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[] y = new float[n * d];
        for (int r = 0; r < n; r++) y[r * d + (int)(Math.Abs(x[r * p]) * 7) % d] = 1;
        float[] Train() => ((ITrainableModel)StructuredTrainer.Fit(new ArgmaxOracle(d), TrainingSource.FromArrays(x, y, p, d),
            new StructuredTrainerOptions { Epochs = 3, Seed = 11, HiddenLayers = mlp ? [8] : [] },
            cancellationToken: TestContext.Current.CancellationToken, backend: new TorchTrainingBackend(TestDevice.Current) { LossOnDevice = lossOnDevice })).Parameters.ToArray();
        float[] first = Train();
        Assert.Equal(first, Train());
        Assert.Equal(first, Train());
    }

    private sealed class Ranked
    {
        public float[] Features { get; set; } = [];
        public float[] Label { get; set; } = [];
    }

    [Fact]
    public void A_label_ranking_mlp_trained_through_ml_net_on_the_torch_backend_is_the_same_model_for_the_same_seed()
    {
        var random = new System.Random(2);
        const int n = 600, p = 30, k = 6;
        var rows = Enumerable.Range(0, n).Select(_ =>
        {
            float[] x = Enumerable.Range(0, p).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
            var label = new float[k];
            int rank = 1;
            foreach (int j in Enumerable.Range(0, k).OrderByDescending(j => x[j] - x[j + k])) label[j] = rank++;
            return new Ranked { Features = x, Label = label };
        }).ToList();
        var definition = Microsoft.ML.Data.SchemaDefinition.Create(typeof(Ranked));
        definition["Features"].ColumnType = new Microsoft.ML.Data.VectorDataViewType(Microsoft.ML.Data.NumberDataViewType.Single, p);
        definition["Label"].ColumnType = new Microsoft.ML.Data.VectorDataViewType(Microsoft.ML.Data.NumberDataViewType.Single, k);
        float[] Train()
        {
            var ml = new Microsoft.ML.MLContext(seed: 3);
            var data = ml.Data.LoadFromEnumerable(rows, definition);
            var model = ml.LabelRanking().Trainers.PerturbedFenchelYoung(new Microsoft.ML.Perturbed.Estimators.Ranking.PerturbedLabelRankingOptions
            {
                NumberOfIterations = 3, Backend = TorchTrainingBackend.ForContext(ml, 16),
            }).Fit(data);
            return model.Transform(data).GetColumn<float[]>("Score").SelectMany(v => v).ToArray();
        }
        float[] first = Train();
        Assert.Equal(first, Train());
    }
}
