using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Classification;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Estimators.Ranking;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.TorchSharp.Tests;

public class TorchTrainingBackendTests
{
    private sealed class Ranked
    {
        public float[] Features { get; set; } = [];
        public float[] Label { get; set; } = [];
    }

    private sealed class Classified
    {
        public float[] Features { get; set; } = [];
        public uint Label { get; set; }
    }

    private static IDataView Ranking(MLContext ml, int n, int p, int k, int seed)
    {
        var rng = new System.Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        double[] w = Enumerable.Range(0, k * p).Select(_ => Normal()).ToArray();
        var rows = Enumerable.Range(0, n).Select(_ =>
        {
            float[] x = Enumerable.Range(0, p).Select(_ => (float)Normal()).ToArray();
            double[] s = Enumerable.Range(0, k).Select(j => Enumerable.Range(0, p).Sum(i => w[j * p + i] * x[i]) + 0.1 * Normal()).ToArray();
            var label = new float[k];
            int position = 1;
            foreach (int j in Enumerable.Range(0, k).OrderByDescending(j => s[j])) label[j] = position++;
            return new Ranked { Features = x, Label = label };
        }).ToList();
        var definition = SchemaDefinition.Create(typeof(Ranked));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, p);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, k);
        return ml.Data.LoadFromEnumerable(rows, definition);
    }

    private static double CrossValidatedSpearman(MLContext ml, IDataView data, IStructuredTrainingBackend? backend, int epochs = 20) =>
        ml.LabelRanking().CrossValidate(data, ml.LabelRanking().Trainers.PerturbedFenchelYoung(
            new PerturbedLabelRankingOptions { NumberOfIterations = epochs, Seed = 1, Backend = backend }), numberOfFolds: 3).Average(f => f.Metrics.Spearman);

    [Fact]
    public void Device_trained_affine_label_ranking_matches_the_cpu_trainer()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Ranking(ml, 450, 10, 6, seed: 2);
        double cpu = CrossValidatedSpearman(ml, data, null);
        // Both placements of the loss: the device version (the default on a GPU) and the host core loss (the default on the CPU).
        foreach (bool onDevice in new[] { true, false })
        {
            double device = CrossValidatedSpearman(ml, data, new TorchTrainingBackend(TestDevice.Current) { LossOnDevice = onDevice });
            Assert.True(cpu > 0.85 && device > 0.85, $"Spearman CPU {cpu:F3}, device {device:F3} (loss on device: {onDevice})");
            Assert.True(Math.Abs(cpu - device) < 0.05, $"Spearman CPU {cpu:F3}, device {device:F3} (loss on device: {onDevice})");
        }
    }

    [Fact]
    public void Mlp_label_ranking_model_saves_and_loads_without_torchsharp_scoring()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Ranking(ml, 300, 8, 5, seed: 3);
        PerturbedPredictionTransformer model = ml.LabelRanking().Trainers.PerturbedFenchelYoung(
            new PerturbedLabelRankingOptions { NumberOfIterations = 30, Seed = 2, Backend = new TorchTrainingBackend(TestDevice.Current, 32) }).Fit(data);
        var mlp = Assert.IsType<MlpModel>(model.Model);
        Assert.Equal([8, 32], mlp.Layers.Select(l => l.Features));
        Assert.True(ml.LabelRanking().Evaluate(model.Transform(data)).Spearman > 0.8);

        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext();
        fresh.ComponentCatalog.RegisterPerturbed();
        var loaded = Assert.IsType<PerturbedPredictionTransformer>(fresh.Model.Load(stream, out _));
        Assert.IsType<MlpModel>(loaded.Model);
        Assert.Equal(model.Transform(data).GetColumn<float[]>("Score").ToArray(), loaded.Transform(data).GetColumn<float[]>("Score").ToArray());
    }

    [Fact]
    public void Device_trained_multiclass_accuracy_equals_the_cpu_trainers()
    {
        var ml = new MLContext(seed: 1);
        var rng = new System.Random(4);
        var definition = SchemaDefinition.Create(typeof(Classified));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 5);
        definition["Label"].ColumnType = new KeyDataViewType(typeof(uint), 3);
        IDataView data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 600).Select(r => new Classified
        {
            Features = Enumerable.Range(0, 5).Select(i => (float)(rng.NextDouble() * 2 + (i == r % 3 ? 1.5 : 0))).ToArray(),
            Label = (uint)(r % 3),
        }).ToList(), definition);
        double Accuracy(IStructuredTrainingBackend? backend) => ml.MulticlassClassification.Evaluate(
            ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(new PerturbedMulticlassOptions { NumberOfIterations = 20, Seed = 1, Backend = backend })
                .Fit(data).Transform(data)).MicroAccuracy;
        double cpu = Accuracy(null);
        foreach (bool onDevice in new[] { true, false })
        {
            double device = Accuracy(new TorchTrainingBackend(TestDevice.Current) { LossOnDevice = onDevice });
            Assert.True(Math.Abs(cpu - device) < 0.03, $"accuracy CPU {cpu:F3}, device {device:F3} (loss on device: {onDevice})");
            Assert.True(device > 0.8, $"device accuracy {device:F3} (loss on device: {onDevice})");
        }
    }

    [Fact]
    public void Cpu_training_is_bit_for_bit_the_same_for_a_seed_whatever_the_torch_thread_count()
    {
        if (TestDevice.IsCuda) return;   // a CPU property
        const int n = 400, p = 12, d = 6;
        var rng = new System.Random(9);
        float[] x = Enumerable.Range(0, n * p).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] y = Enumerable.Range(0, n).SelectMany(_ => Enumerable.Range(1, d).OrderBy(_ => rng.Next()).Select(v => (float)v)).ToArray();
        float[] Train(int[] hidden)
        {
            IScoreModel model = new TorchTrainingBackend(null, hidden).Train(new Oracles.RankingOracle(d), x, y, p,
                new StructuredTrainerOptions { NumberOfIterations = 3, BatchSize = 64, Samples = 5, Seed = 4 }, default, default, null, TestContext.Current.CancellationToken);
            var scores = new float[n * d];
            model.Score(x, scores);
            return scores;
        }
        int many = Math.Max(4, Environment.ProcessorCount);
        foreach (int[] hidden in new[] { Array.Empty<int>(), [64] })
        {
            float[] one = TestDevice.WithTorchThreads(1, () => Train(hidden));
            Assert.Equal(one, TestDevice.WithTorchThreads(many, () => Train(hidden)));
            Assert.Equal(one, TestDevice.WithTorchThreads(many, () => Train(hidden)));
        }
    }

    [Theory]
    [InlineData(StructuredLossKind.Blackbox)]
    [InlineData(StructuredLossKind.IdentityWithProjection)]
    [InlineData(StructuredLossKind.SpoPlus)]
    [InlineData(StructuredLossKind.DirectLoss)]
    [InlineData(StructuredLossKind.FenchelYoung)]
    public void Every_loss_trains_on_the_device_backend_as_well_as_on_the_cpu(StructuredLossKind kind)
    {
        // Host losses (blackbox, identity, SPO+, direct loss) run through PerturbedAutograd.Loss; FY runs on the device.
        const int n = 300, p = 6, d = 4;
        var rng = new System.Random(3);
        var x = new float[n * p];
        var y = new float[n * d];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < p; j++) x[r * p + j] = (float)(rng.NextDouble() * 2 - 1) + (j == r % d ? 2f : 0f);
            y[r * d + r % d] = 1;
        }
        var head = new Oracles.ArgmaxOracle(d);
        // λ = 1: argmax solutions of unit-norm scores are far apart (the label-ranking default 0.1 flips only near-ties).
        var options = new StructuredTrainerOptions { Loss = kind, NumberOfIterations = 15, LearningRate = 0.05, Seed = 2, BlackboxLambda = 1 };
        double Accuracy(IStructuredTrainingBackend? backend)
        {
            IScoreModel model = StructuredTrainer.Fit(head, x, y, p, options, backend: backend);
            var theta = new float[n * d];
            model.Score(x, theta);
            int correct = 0;
            for (int r = 0; r < n; r++) if (Oracles.ArgmaxOracle.IndexOfMax(theta.AsSpan(r * d, d)) == r % d) correct++;
            return correct / (double)n;
        }
        double cpu = Accuracy(null), device = Accuracy(new TorchTrainingBackend(TestDevice.Current) { LossOnDevice = true });   // the device versions, on the CPU too
        Assert.True(cpu >= 0.9, $"{kind} CPU accuracy {cpu:P1}");
        Assert.True(device >= cpu - 0.05, $"{kind}: device {device:P1} vs CPU {cpu:P1}");
    }

    [Fact]
    public void Example_weights_train_on_the_device_backend_as_on_the_cpu()
    {
        // Half the rows carry a wrong class with weight 0: both backends must ignore them.
        const int n = 300, p = 6, d = 3;
        var rng = new System.Random(4);
        var x = new float[n * p];
        var y = new float[n * d];
        var w = new float[n];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < p; j++) x[r * p + j] = (float)(rng.NextDouble() * 2 - 1) + (j == r % d ? 2f : 0f);
            bool corrupt = r % 2 == 1;
            y[r * d + (corrupt ? (r + 1) % d : r % d)] = 1;
            w[r] = corrupt ? 0 : 1;
        }
        var head = new Oracles.ArgmaxOracle(d);
        var options = new StructuredTrainerOptions { NumberOfIterations = 15, LearningRate = 0.05, Seed = 2 };
        double Accuracy(IStructuredTrainingBackend? backend)
        {
            IScoreModel model = StructuredTrainer.Fit(head, x, y, w, p, options, backend: backend);
            var theta = new float[n * d];
            model.Score(x, theta);
            return Enumerable.Range(0, n).Count(r => Oracles.ArgmaxOracle.IndexOfMax(theta.AsSpan(r * d, d)) == r % d) / (double)n;
        }
        double cpu = Accuracy(null), device = Accuracy(new TorchTrainingBackend(TestDevice.Current));
        Assert.True(cpu > 0.95 && device > 0.95, $"CPU {cpu:P1}, device {device:P1}");
    }

    [Fact]
    public void A_user_head_trains_on_the_device_backend_and_options_are_checked_as_on_the_cpu()
    {
        var backend = new TorchTrainingBackend(TestDevice.Current);
        float[] x = [1, 2, 3, 4];
        IScoreModel model = backend.Train(new Oracles.GridScorePathOracle(2, 2), x, [1, 1, 0, 1, 1, 0, 1, 1], 2,
            new StructuredTrainerOptions { NumberOfIterations = 2 }, default, default, null, TestContext.Current.CancellationToken);
        Assert.Equal(4, model.Outputs);
        Assert.Equal("NumberOfIterations", Assert.Throws<ArgumentOutOfRangeException>(() => backend.Train(new Oracles.ArgmaxOracle(2), x, [1, 0, 0, 1], 2,
            new StructuredTrainerOptions { NumberOfIterations = 0 }, default, default, null, TestContext.Current.CancellationToken)).ParamName);
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => backend.Train(new Oracles.ArgmaxOracle(2), x, [1, 0, 0, 1], 2,
            new StructuredTrainerOptions { LearningRate = double.NaN }, default, default, null, TestContext.Current.CancellationToken)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TorchTrainingBackend(null, 0).Train(new Oracles.ArgmaxOracle(2), x, [1, 0, 0, 1], 2,
            new StructuredTrainerOptions(), default, default, null, TestContext.Current.CancellationToken));
        // A user's score model trains on the managed backend only, and the device backend says so.
        var e = Assert.Throws<NotSupportedException>(() => backend.Train(new Oracles.ArgmaxOracle(2), x, [1, 0, 0, 1], 2,
            new StructuredTrainerOptions { ModelFactory = (p, d) => new AffineModel(p, d) }, default, default, null, TestContext.Current.CancellationToken));
        Assert.Contains("ModelFactory", e.Message);
    }
}

public class TorchDeviceFromContextTests
{
    [Fact]
    public void The_backend_follows_the_contexts_gpu_settings()
    {
        Assert.Equal(global::TorchSharp.DeviceType.CPU, TorchTrainingBackend.ForContext(new MLContext()).Device.type);
        if (!global::TorchSharp.torch.cuda.is_available())
        {
            Assert.Equal(global::TorchSharp.DeviceType.CPU, TorchTrainingBackend.ForContext(new MLContext { GpuDeviceId = 0, FallbackToCpu = true }).Device.type);
            Assert.Throws<InvalidOperationException>(() => TorchTrainingBackend.ForContext(new MLContext { GpuDeviceId = 0, FallbackToCpu = false }));
        }
        else
        {
            Assert.Equal(global::TorchSharp.DeviceType.CUDA, TorchTrainingBackend.ForContext(new MLContext { GpuDeviceId = 0, FallbackToCpu = false }).Device.type);
        }
    }
}
