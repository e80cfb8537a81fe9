using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Data;

public class SparseTrainingTests
{
    private const int P = 40, D = 4;

    private static (IScoreModel Dense, IScoreModel Sparse) Both(float[] x, float[] y, StructuredTrainerOptions options, float[]? weights = null)
    {
        IScoreModel dense = StructuredTrainer.Fit(new ArgmaxOracle(D), TrainingSource.FromArrays(x, y, P, D, weights ?? default(ReadOnlyMemory<float>)), options);
        IScoreModel sparse = StructuredTrainer.Fit(new ArgmaxOracle(D), TrainingSource.FromRows(SparseData.Sparse(x, y, P, D, weights)), options);
        return (dense, sparse);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    public void Sparse_sgd_is_dense_sgd_to_rounding_with_and_without_l2(double l2)
    {
        (float[] x, float[] y) = SparseData.Make(n: 200, P, D, perRow: 3, seed: 1);   // most features absent from most batches
        var options = new StructuredTrainerOptions { Optimizer = GradientOptimizerKind.Sgd, LearningRate = 0.1, L2Regularization = l2, NumberOfIterations = 4, Seed = 3, BatchSize = 8 };
        (IScoreModel dense, IScoreModel sparse) = Both(x, y, options);
        Assert.IsType<AffineModel>(sparse);
        Assert.True(SparseData.MaxRelativeDifference(SparseData.Weights(dense), SparseData.Weights(sparse)) < 1e-4);
        Assert.True(SparseData.MaxRelativeDifference(((AffineModel)dense).Bias, ((AffineModel)sparse).Bias) < 1e-4);
    }

    [Fact]
    public void Sparse_adagrad_is_dense_adagrad_to_rounding_even_when_features_are_absent()
    {
        (float[] x, float[] y) = SparseData.Make(n: 200, P, D, perRow: 3, seed: 9);
        var options = new StructuredTrainerOptions { Optimizer = GradientOptimizerKind.AdaGrad, LearningRate = 0.1, NumberOfIterations = 3, Seed = 3, BatchSize = 8 };
        (IScoreModel dense, IScoreModel sparse) = Both(x, y, options);
        Assert.True(SparseData.MaxRelativeDifference(SparseData.Weights(dense), SparseData.Weights(sparse)) < 1e-4);
        Assert.True(SparseData.MaxRelativeDifference(((AffineModel)dense).Bias, ((AffineModel)sparse).Bias) < 1e-4);
    }

    [Fact]
    public void Dense_adagrad_follows_its_formula()
    {
        // One affine weight, squared loss on scores: ∇ = (θ − y)·x; G accumulates ∇², w ← w − η∇/(√G + 1e-10).
        float[] x = [2], y = [1];
        var options = new StructuredTrainerOptions { Loss = StructuredLossKind.SquaredScores, Optimizer = GradientOptimizerKind.AdaGrad, LearningRate = 0.5, NumberOfIterations = 2, BatchSize = 1 };
        var model = (AffineModel)StructuredTrainer.Fit(new ArgmaxOracle(1), x, y, 1, options);
        double w = 0, b = 0, gw2 = 0, gb2 = 0;
        for (int step = 0; step < 2; step++)
        {
            double r = (float)(w * 2 + b) - 1, gw = r * 2, gb = r;
            gw2 += gw * gw;
            gb2 += gb * gb;
            w = (float)(w - (float)(0.5 * gw / (Math.Sqrt(gw2) + 1e-10)));
            b = (float)(b - (float)(0.5 * gb / (Math.Sqrt(gb2) + 1e-10)));
        }
        Assert.Equal(w, model.Weights[0], 6);
        Assert.Equal(b, model.Bias[0], 6);
    }

    [Fact]
    public void Sparse_adam_is_dense_adam_to_rounding_when_every_feature_is_in_every_batch_with_weights()
    {
        (float[] x, float[] y) = SparseData.Make(n: 120, P, D, perRow: 200, seed: 2);   // every slot non-zero
        Assert.DoesNotContain(0f, x);
        float[] w = Enumerable.Range(0, 120).Select(i => (float)(i % 3)).ToArray();
        (IScoreModel dense, IScoreModel sparse) = Both(x, y, new StructuredTrainerOptions { NumberOfIterations = 3, Seed = 4, BatchSize = 16 }, w);
        Assert.True(SparseData.MaxRelativeDifference(SparseData.Weights(dense), SparseData.Weights(sparse)) < 1e-4);
    }

    [Fact]
    public void Sparse_adam_is_lazy_adam_the_moments_and_weights_of_absent_features_stay()
    {
        // Reference: dense gradients from the same model and loss, applied by Adam to the present features only.
        (float[] x, float[] y) = SparseData.Make(n: 60, P, D, perRow: 2, seed: 5);
        var options = new StructuredTrainerOptions { NumberOfIterations = 2, Seed = 6, BatchSize = 10, LearningRate = 0.05 };
        IScoreModel sparse = StructuredTrainer.Fit(new ArgmaxOracle(D), TrainingSource.FromRows(SparseData.Sparse(x, y, P, D)), options);

        var model = new AffineModel(P, D);
        StructuredLoss loss = options.CreateLoss(new ArgmaxOracle(D));
        int parameters = model.Parameters.Length;
        double[] m = new double[parameters], v = new double[parameters], gradient = new double[parameters];
        int[] order = Enumerable.Range(0, 60).ToArray();
        var shuffle = new System.Random(options.Seed);
        ulong step = 0;
        for (int epoch = 0; epoch < options.NumberOfIterations; epoch++)
        {
            shuffle.Shuffle(order);
            for (int start = 0; start < 60; start += options.BatchSize)
            {
                int[] rows = order[start..(start + options.BatchSize)];
                float[] xb = rows.SelectMany(r => x.AsSpan(r * P, P).ToArray()).ToArray(), yb = rows.SelectMany(r => y.AsSpan(r * D, D).ToArray()).ToArray();
                var theta = new float[rows.Length * D];
                var g = new float[rows.Length * D];
                model.Score(xb, theta);
                loss.Evaluate(theta, yb, new float[rows.Length], g, step++);
                model.Backward(xb, g, 0, gradient);
                double c1 = 1 - Math.Pow(0.9, step), c2 = 1 - Math.Pow(0.999, step);
                for (int i = 0; i < parameters; i++)
                {
                    bool present = i >= P * D || rows.Any(r => x[r * P + i % P] != 0);
                    if (!present) continue;
                    m[i] = 0.9 * m[i] + 0.1 * gradient[i];
                    v[i] = 0.999 * v[i] + 0.001 * gradient[i] * gradient[i];
                    model.Parameters[i] -= (float)(options.LearningRate * (m[i] / c1) / (Math.Sqrt(v[i] / c2) + 1e-8));
                }
            }
        }
        Assert.True(SparseData.MaxRelativeDifference(model.Weights, SparseData.Weights(sparse)) < 1e-4);
        // And it is not dense Adam here: absent features do not coast on their momentum.
        IScoreModel dense = StructuredTrainer.Fit(new ArgmaxOracle(D), TrainingSource.FromArrays(x, y, P, D), options);
        Assert.True(SparseData.MaxRelativeDifference(SparseData.Weights(dense), SparseData.Weights(sparse)) > 1e-3);
    }

    [Theory]
    [InlineData(GradientOptimizerKind.Sgd, 0.0)]
    [InlineData(GradientOptimizerKind.Sgd, 0.02)]
    [InlineData(GradientOptimizerKind.Adam, 0.0)]
    public void A_sparse_mlp_trains_its_first_layer_sparse_and_equals_the_dense_mlp_to_rounding(GradientOptimizerKind optimizer, double l2)
    {
        // Adam equals its dense self only when every feature is in every batch.
        (float[] x, float[] y) = SparseData.Make(n: 80, P, D, perRow: optimizer == GradientOptimizerKind.Adam ? 200 : 4, seed: 7);
        var options = new StructuredTrainerOptions { NumberOfIterations = 3, Seed = 8, HiddenLayers = [6, 5], Optimizer = optimizer, L2Regularization = l2, LearningRate = 0.05, BatchSize = 8 };
        (IScoreModel dense, IScoreModel sparse) = Both(x, y, options);
        float[] a = ((MlpModel)dense).Parameters.ToArray(), b = ((MlpModel)sparse).Parameters.ToArray();
        Assert.True(SparseData.MaxRelativeDifference(a, b) < 1e-4, $"relative difference {SparseData.MaxRelativeDifference(a, b)}");
    }

    [Fact]
    public void A_users_model_trains_on_sparse_rows_densified_bit_for_bit()
    {
        (float[] x, float[] y) = SparseData.Make(n: 80, P, D, perRow: 4, seed: 7);
        var options = new StructuredTrainerOptions { NumberOfIterations = 2, Seed = 8, ModelFactory = (features, outputs) => MlpModel.Random(features, [6], outputs, seed: 1) };
        (IScoreModel dense, IScoreModel sparse) = Both(x, y, options);
        Assert.Equal(((MlpModel)dense).Parameters.ToArray(), ((MlpModel)sparse).Parameters.ToArray());
    }

    [Fact]
    public void Sparse_training_is_the_same_bits_on_one_and_all_threads_and_validation_streams()
    {
        var stream = new SparseData.GeneratedStream(rows: 300, p: 500, d: 5, sparse: true);
        var validation = new SparseData.GeneratedStream(rows: 50, p: 500, d: 5, sparse: true);
        var reports = new List<TrainingProgress>();
        float[] Run(int threads) => SparseData.Weights(StructuredTrainer.Fit(new ArgmaxOracle(5), TrainingSource.FromStream(stream, 64),
            new StructuredTrainerOptions { NumberOfIterations = 3, Seed = 9, MaxDegreeOfParallelism = threads }, TrainingSource.FromStream(validation, 1),
            new Progress(reports)));
        Assert.Equal(Run(1), Run(-1));
        Assert.All(reports, r => Assert.True(double.IsFinite(r.ValidationLoss)));
    }

    [Fact]
    public void Sparse_scoring_equals_dense_scoring_to_rounding()
    {
        var random = new System.Random(11);
        var affine = new AffineModel(Enumerable.Range(0, D * P).Select(_ => (float)random.NextDouble() - 0.5f).ToArray(), [1, 2, 3, 4]);
        var mlp = MlpModel.Random(P, [7, 5], D, seed: 3);
        int[] indices = [2, 9, 17, 39];
        float[] values = [0.5f, -2, 1.25f, 3];
        var dense = new float[P];
        for (int i = 0; i < indices.Length; i++) dense[indices[i]] = values[i];
        foreach (ISparseScoreModel model in new ISparseScoreModel[] { affine, mlp })
        {
            float[] a = new float[D], b = new float[D];
            model.Score(dense, a);
            model.ScoreSparse(indices, values, b);
            for (int k = 0; k < D; k++) Assert.Equal(a[k], b[k], 5);
        }
    }

    [Fact]
    public void The_single_precision_adam_row_gives_the_same_bits_in_vector_and_scalar_lanes_and_follows_adam()
    {
        var random = new System.Random(13);
        float[] Make(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        const int n = 37;
        float[] w = Make(n), m = Make(n).Select(Math.Abs).ToArray(), v = Make(n).Select(x => x * x).ToArray(), g = Make(n);
        float[] w1 = (float[])w.Clone(), m1 = (float[])m.Clone(), v1 = (float[])v.Clone();
        SingleUpdates.Adam(w1, m1, v1, g, 0.01f, 1.5f);
        for (int i = 0; i < n; i++)
        {
            float[] wi = [w[i]], mi = [m[i]], vi = [v[i]];
            SingleUpdates.Adam(wi, mi, vi, [g[i]], 0.01f, 1.5f);   // one element: the scalar lane
            Assert.Equal(BitConverter.SingleToInt32Bits(wi[0]), BitConverter.SingleToInt32Bits(w1[i]));
            Assert.Equal(mi[0], m1[i]);
            Assert.Equal(vi[0], v1[i]);
            // Adam's formula in double, to single-precision rounding.
            double mm = 0.9 * m[i] + 0.1 * g[i], vv = 0.999 * v[i] + 0.001 * g[i] * g[i];
            Assert.Equal(w[i] - 0.01 * mm / (Math.Sqrt(vv * 1.5) + 1e-8), w1[i], 5);
        }
    }

    private sealed class Progress(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}
