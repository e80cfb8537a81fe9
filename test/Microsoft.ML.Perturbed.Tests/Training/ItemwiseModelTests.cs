using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Training;

/// <summary>The shared-network score model for inputs made of items, and user score models in the training loop.</summary>
public class ItemwiseModelTests
{
    private static float[] Row(int length, int seed)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    [Fact]
    public void Each_item_block_is_the_shared_network_of_that_item_and_the_extras_an_affine_map_of_the_row()
    {
        const int n = 4, q = 2, k = 3;
        ItemwiseModel model = ItemwiseModel.Random(n, q, [5], k, extraOutputs: 2, seed: 3);
        Assert.Equal(n * q, model.Features);
        Assert.Equal(n * k + 2, model.Outputs);
        float[] x = Row(2 * n * q, 1);
        var theta = new float[2 * model.Outputs];
        model.Score(x, theta);
        for (int r = 0; r < 2; r++)
        {
            for (int i = 0; i < n; i++)
            {
                var alone = new float[k];
                model.Item.Score(x.AsSpan(r * n * q + i * q, q), alone);
                Assert.Equal(alone, theta.AsSpan(r * model.Outputs + i * k, k).ToArray());
            }
            var extra = new float[2];
            model.Extra!.Score(x.AsSpan(r * n * q, n * q), extra);
            Assert.Equal(extra, theta.AsSpan(r * model.Outputs + n * k, 2).ToArray());
        }
    }

    [Fact]
    public void Permuting_the_items_permutes_the_rows_of_the_score_matrix()
    {
        const int n = 5, q = 1;
        ItemwiseModel model = ItemwiseModel.Random(n, q, [8], n, extraOutputs: 0, seed: 2);
        float[] x = Row(n, 4);
        int[] perm = [3, 0, 4, 1, 2];
        float[] permuted = perm.Select(i => x[i]).ToArray();
        var a = new float[n * n];
        var b = new float[n * n];
        model.Score(x, a);
        model.Score(permuted, b);
        for (int i = 0; i < n; i++) Assert.Equal(a.AsSpan(perm[i] * n, n).ToArray(), b.AsSpan(i * n, n).ToArray());
    }

    [Fact]
    public void Backward_matches_finite_differences_of_the_mean_loss_with_l2_on_weights()
    {
        const int n = 3, q = 2, k = 2, batch = 2;
        ItemwiseModel model = ItemwiseModel.Random(n, q, [4], k, extraOutputs: 1, seed: 5);
        float[] x = Row(batch * n * q, 6);
        float[] g = Row(batch * model.Outputs, 7);   // ∂loss/∂θ of the linear loss ⟨g, θ⟩ / batch
        const double l2 = 0.1;
        var grad = new double[model.Parameters.Length];
        model.Backward(x, g, l2, grad);
        // The weights, by the documented layout: item network layers then the extra map, each weights first, then biases.
        var isWeight = new bool[model.Parameters.Length];
        int o = 0;
        foreach ((int fanIn, int fanOut) in new[] { (q, 4), (4, k), (n * q, 1) })
        {
            for (int i = 0; i < fanIn * fanOut; i++) isWeight[o + i] = true;
            o += fanIn * fanOut + fanOut;
        }
        Assert.Equal(model.Parameters.Length, o);
        double Loss()
        {
            var th = new float[g.Length];
            model.Score(x, th);
            double l = TestMath.Dot(g, th) / batch;
            Span<float> p = model.Parameters;
            for (int i = 0; i < p.Length; i++) if (isWeight[i]) l += 0.5 * l2 * p[i] * p[i];
            return l;
        }
        TestMath.AssertFiniteDifferences(model, Loss, grad);
    }

    [Fact]
    public void First_outputs_keeps_the_score_matrix_and_refuses_a_cut_inside_it()
    {
        ItemwiseModel model = ItemwiseModel.Random(3, 1, [4], 3, extraOutputs: 1, seed: 1);
        ITrainableModel scores = model.FirstOutputs(9);
        Assert.Equal(9, scores.Outputs);
        float[] x = [0.2f, 0.9f, 0.5f];
        var full = new float[10];
        var kept = new float[9];
        model.Score(x, full);
        scores.Score(x, kept);
        Assert.Equal(full[..9], kept);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.FirstOutputs(5));
        Assert.Equal("outputs", e.ParamName);
    }

    [Fact]
    public void The_training_loop_trains_a_factory_model_and_checks_its_shape()
    {
        // Direct loss with a learned σ: the loss needs d² + 1 outputs and the trained predictor keeps the d² scores.
        const int d = 4, n = 40;
        var head = new MatchingOracle(d);
        var rng = new System.Random(9);
        var x = new float[n * d];
        var y = new float[n * d * d];
        for (int s = 0; s < n; s++)
        {
            float[] row = Enumerable.Range(0, d).Select(_ => (float)rng.NextDouble()).ToArray();
            row.CopyTo(x, s * d);
            int[] order = Enumerable.Range(0, d).OrderBy(i => row[i]).ToArray();
            for (int position = 0; position < d; position++) y[s * d * d + order[position] * d + position] = 1;
        }
        var options = new StructuredTrainerOptions
        {
            Loss = StructuredLossKind.DirectLoss, NumberOfIterations = 60, BatchSize = 10, LearningRate = 0.05, Seed = 1,
            ModelFactory = (features, outputs) => ItemwiseModel.Random(d, 1, [16], d, outputs - d * d, seed: 1),
        };
        IScoreModel model = StructuredTrainer.Fit(head, x, y, d, options);
        Assert.Equal(d * d, model.Outputs);
        var mu = new float[n * d * d];
        var predicted = new float[mu.Length];
        model.Score(x, mu);
        head.Solve(mu, predicted);
        int right = Enumerable.Range(0, mu.Length).Count(i => y[i] == 1 && predicted[i] == 1);
        Assert.True(right > 0.9 * n * d, $"{right} of {n * d} positions right after training.");

        options.ModelFactory = (_, _) => ItemwiseModel.Random(d, 1, [16], d, 0, seed: 1);   // forgets the noise output
        var e = Assert.Throws<ArgumentException>(() => StructuredTrainer.Fit(head, x, y, d, options));
        Assert.Equal(nameof(StructuredTrainerOptions.ModelFactory), e.ParamName);
        Assert.Contains("17 outputs", e.Message);

        options.ModelFactory = (_, _) => ItemwiseModel.Random(d, 1, [16], d, 1, seed: 1);
        options.HiddenLayers = [8];
        e = Assert.Throws<ArgumentException>(() => StructuredTrainer.Fit(head, x, y, d, options));
        Assert.Equal(nameof(StructuredTrainerOptions.HiddenLayers), e.ParamName);
    }
}
