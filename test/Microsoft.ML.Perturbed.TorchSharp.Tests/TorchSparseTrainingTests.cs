using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.TorchSharp.Tests;

/// <summary>Sparse rows on the TorchSharp backend: a sparse COO batch through the first layer, never densified to p columns.</summary>
public class TorchSparseTrainingTests
{
    private const int P = 300, D = 4, N = 160;

    private static (float[] X, float[] Y) Data()
    {
        var random = new System.Random(3);
        var x = new float[N * P];
        var y = new float[N * D];
        for (int r = 0; r < N; r++)
        {
            for (int k = 0; k < 6; k++) x[r * P + random.Next(P)] = (float)(random.NextDouble() + 0.5);
            int best = 0;
            double bestScore = double.MinValue;
            for (int c = 0; c < D; c++)
            {
                double s = 0;
                for (int j = c; j < P; j += D) s += x[r * P + j];
                if (s > bestScore) (best, bestScore) = (c, s);
            }
            y[r * D + best] = 1;
        }
        return (x, y);
    }

    private static TrainingRows Sparse(float[] x, float[] y)
    {
        var rows = new TrainingRows(P, D, isSparse: true, hasWeights: false);
        for (int r = 0; r < N; r++) rows.Add(x.AsSpan(r * P, P), y.AsSpan(r * D, D));
        return rows;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sparse_batches_train_the_same_model_as_dense_ones_to_rounding(bool mlp)
    {
        (float[] x, float[] y) = Data();
        var options = new StructuredTrainerOptions { NumberOfIterations = 3, Seed = 2, BatchSize = 16, Optimizer = GradientOptimizerKind.Sgd, LearningRate = 0.2, HiddenLayers = mlp ? [5] : [] };
        var backend = new TorchTrainingBackend(TestDevice.Current) { LossOnDevice = false };
        IScoreModel dense = StructuredTrainer.Fit(new ArgmaxOracle(D), TrainingSource.FromArrays(x, y, P, D), options, cancellationToken: TestContext.Current.CancellationToken, backend: backend);
        IScoreModel sparse = StructuredTrainer.Fit(new ArgmaxOracle(D), TrainingSource.FromRows(Sparse(x, y)), options, cancellationToken: TestContext.Current.CancellationToken, backend: backend);
        float[] a = ((ITrainableModel)dense).Parameters.ToArray(), b = ((ITrainableModel)sparse).Parameters.ToArray();
        double scale = a.Max(Math.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-4 * scale, $"parameter {i}: dense {a[i]}, sparse {b[i]}");
    }
}
