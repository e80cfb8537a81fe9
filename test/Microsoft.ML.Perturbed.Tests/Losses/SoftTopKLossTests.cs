using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Losses;

/// <summary>
/// The soft top-k loss (Cuturi et al. 2019, §5) beyond its registry contract (LossContractTests: finite differences at the
/// contract's ε, thread invariance, a row independent of its batch, bad input): its ε → 0 limit against the brute-force
/// hard loss, its gradient against finite differences at sharp ε for both rank methods and k &gt; 1, its refusals, and that
/// it trains a classifier.
/// </summary>
public class SoftTopKLossTests
{
    private const int Classes = 10;

    private static StructuredLoss Loss(SoftRankingMethod method, double epsilon, int k, Oracle? head = null, int threads = -1) =>
        StructuredLoss.Create(head ?? new ArgmaxOracle(Classes), StructuredLossKind.SoftTopK, new StructuredLossOptions
        {
            SoftRankMethod = method, Epsilon = epsilon, SoftTopK = k, MaxDegreeOfParallelism = threads,
        });

    /// <summary>Rows of well-separated scores (gaps ≥ 0.05) and a random class label per row, one-hot.</summary>
    private static (float[] Theta, float[] Target, int[] Label) Rows(int rows, int seed)
    {
        var rng = new System.Random(seed);
        var theta = new float[rows * Classes];
        var target = new float[rows * Classes];
        var label = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            int[] order = Enumerable.Range(0, Classes).ToArray();
            rng.Shuffle(order);
            for (int i = 0; i < Classes; i++) theta[r * Classes + order[i]] = (float)(0.3 * i + 0.1 * rng.NextDouble());
            label[r] = rng.Next(Classes);
            target[r * Classes + label[r]] = 1;
        }
        return (theta, target, label);
    }

    /// <summary>The hard loss by brute force: max(0, #classes scored above the label − k + 1).</summary>
    private static double HardLoss(ReadOnlySpan<float> theta, int label, int k)
    {
        int above = 0;
        for (int i = 0; i < theta.Length; i++) if (theta[i] > theta[label]) above++;
        return Math.Max(0, above - k + 1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void At_small_epsilon_the_loss_is_the_brute_force_hard_loss(int k)
    {
        const int rows = 40;
        (float[] theta, float[] target, int[] label) = Rows(rows, 1);
        var values = new float[rows];
        // The permutahedron's ranks are exact once ε is below the gaps (here 1e-3 ≪ 0.05): the hard loss to float rounding.
        Loss(SoftRankingMethod.PermutahedronL2, 1e-3, k).Evaluate(theta, target, values, new float[theta.Length]);
        for (int r = 0; r < rows; r++) Assert.Equal(HardLoss(theta.AsSpan(r * Classes, Classes), label[r], k), values[r], 4);
        // Sinkhorn's soft ranks approach them as ε → 0 (squashed scores: ε on the [0, 1] scale).
        double previous = double.PositiveInfinity;
        foreach (double epsilon in new[] { 1e-2, 1e-3, 1e-4 })
        {
            Loss(SoftRankingMethod.Sinkhorn, epsilon, k).Evaluate(theta, target, values, new float[theta.Length]);
            double error = 0;
            for (int r = 0; r < rows; r++) error = Math.Max(error, Math.Abs(values[r] - HardLoss(theta.AsSpan(r * Classes, Classes), label[r], k)));
            Assert.True(error < previous, $"Sinkhorn ε = {epsilon}: the largest gap to the hard loss, {error}, did not shrink from {previous}.");
            previous = error;
        }
        Assert.True(previous < 0.05, $"Sinkhorn at ε = 1e-4 is {previous} from the hard loss.");
    }

    [Theory]
    [InlineData(SoftRankingMethod.Sinkhorn, 0.01, 1)]
    [InlineData(SoftRankingMethod.Sinkhorn, 0.01, 3)]
    [InlineData(SoftRankingMethod.PermutahedronL2, 0.5, 2)]
    [InlineData(SoftRankingMethod.PermutahedronKL, 0.5, 1)]
    public void Gradient_matches_central_finite_differences(SoftRankingMethod method, double epsilon, int k)
    {
        const int rows = 6;
        StructuredLoss loss = method == SoftRankingMethod.Sinkhorn
            ? StructuredLoss.Create(new ArgmaxOracle(Classes), StructuredLossKind.SoftTopK, new StructuredLossOptions { SoftRankMethod = method, Epsilon = epsilon, SoftTopK = k })
            : Loss(method, epsilon, k);
        var rng = new System.Random(2);
        float[] theta = TestMath.RandomVector(rng, rows * Classes, 1);
        var target = new float[rows * Classes];
        for (int r = 0; r < rows; r++) target[r * Classes + rng.Next(Classes)] = 1;
        var gradient = new float[theta.Length];
        loss.Evaluate(theta, target, new float[rows], gradient);
        double Sum(float[] t)
        {
            var v = new float[rows];
            loss.Evaluate(t, target, v, new float[t.Length]);
            return v.Sum(x => (double)x);
        }
        int checkedEntries = 0;
        for (int i = 0; i < theta.Length; i++)
        {
            double Fd(float h)
            {
                float[] plus = (float[])theta.Clone(), minus = (float[])theta.Clone();
                plus[i] += h;
                minus[i] -= h;
                return (Sum(plus) - Sum(minus)) / ((double)plus[i] - minus[i]);
            }
            double coarse = Fd(2e-3f), fine = Fd(5e-4f);
            if (Math.Abs(coarse - fine) > 1e-2 * (1 + Math.Abs(coarse))) continue;   // a kink (hinge, PAV block, stopping rule) inside the step
            checkedEntries++;
            Assert.True(Math.Abs(fine - gradient[i]) <= 2e-2 * (1 + Math.Abs(fine)), $"{method} ε {epsilon} k {k}: ∂L/∂θ[{i}] by differences {fine}, gradient {gradient[i]}");
        }
        Assert.True(checkedEntries >= theta.Length / 2, $"only {checkedEntries} of {theta.Length} entries away from a kink");
        Assert.Contains(gradient, g => g != 0);
    }

    [Fact]
    public void A_cost_head_ranks_the_cheapest_best()
    {
        // Minimizing: the label with the lowest cost ranks first, so its loss is 0; the dearest one's is d − 1 at k = 1.
        var costHead = Oracle.Create(4, 4, (c, y) => y[c.IndexOf(MinOf(c))] = 1, "cheapest", OptimizationSense.Minimize);
        float[] costs = [3, 1, 2, 4];
        var values = new float[2];
        Loss(SoftRankingMethod.PermutahedronL2, 1e-3, 1, costHead).Evaluate([.. costs, .. costs], [0, 1, 0, 0, 0, 0, 0, 1], values, new float[8]);
        Assert.Equal(0, values[0], 4);
        Assert.Equal(3, values[1], 4);

        static float MinOf(ReadOnlySpan<float> c)
        {
            float m = c[0];
            foreach (float v in c) m = Math.Min(m, v);
            return m;
        }
    }

    [Fact]
    public void Bad_settings_are_named()
    {
        var head = new ArgmaxOracle(Classes);
        Assert.Equal("SoftTopK", Assert.ThrowsAny<ArgumentException>(() => StructuredLoss.Create(head, StructuredLossKind.SoftTopK, new StructuredLossOptions { SoftTopK = 0 })).ParamName);
        var beyond = Assert.ThrowsAny<ArgumentException>(() => StructuredLoss.Create(head, StructuredLossKind.SoftTopK, new StructuredLossOptions { SoftTopK = Classes + 1 }));
        Assert.Equal("SoftTopK", beyond.ParamName);
        Assert.Contains($"[1, {Classes}]", beyond.Message);
        Assert.Equal("SoftRankMethod", Assert.ThrowsAny<ArgumentException>(() => StructuredLoss.Create(head, StructuredLossKind.SoftTopK,
            new StructuredLossOptions { SoftRankMethod = SoftRankingMethod.Perturbed })).ParamName);
        Assert.Equal("SoftRankMethod", Assert.ThrowsAny<ArgumentException>(() => StructuredLoss.Create(head, StructuredLossKind.SoftTopK,
            new StructuredLossOptions { SoftRankMethod = (SoftRankingMethod)9 })).ParamName);
        Assert.Equal("Epsilon", Assert.ThrowsAny<ArgumentException>(() => StructuredLoss.Create(head, StructuredLossKind.SoftTopK,
            new StructuredLossOptions { SoftRankMethod = SoftRankingMethod.Sinkhorn, Epsilon = 1e-8 })).ParamName);
        // The trainer checks the options before it builds the loss, with the same names.
        Assert.Equal("SoftTopK", Assert.ThrowsAny<ArgumentException>(() => StructuredTrainer.Fit(head, new float[Classes], new float[Classes], 1,
            new StructuredTrainerOptions { Loss = StructuredLossKind.SoftTopK, SoftTopK = Classes + 1 })).ParamName);
    }

    [Fact]
    public void Trains_a_classifier_the_same_on_one_and_all_threads()
    {
        // Ten Gaussian blobs in 5 dimensions: the soft top-1 loss learns them, and the trained weights are the same bits
        // whatever the thread count.
        const int rows = 400, p = 5;
        var rng = new System.Random(4);
        float[] centres = TestMath.RandomVector(rng, Classes * p, 3);
        var x = new float[rows * p];
        var y = new float[rows * Classes];
        var c = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            c[r] = r % Classes;
            y[r * Classes + c[r]] = 1;
            for (int j = 0; j < p; j++) x[r * p + j] = centres[c[r] * p + j] + (float)(0.3 * (rng.NextDouble() - 0.5));
        }
        AffineModel Train(int threads) => StructuredTrainer.Train(new ArgmaxOracle(Classes), x, y, p, new StructuredTrainerOptions
        {
            Loss = StructuredLossKind.SoftTopK, Epsilon = 0.01, NumberOfIterations = 20, LearningRate = 0.05, Seed = 1, MaxDegreeOfParallelism = threads,
        });
        AffineModel one = Train(1), all = Train(-1);
        Assert.Equal(one.Parameters.ToArray(), all.Parameters.ToArray());
        var theta = new float[rows * Classes];
        all.Score(x, theta);
        int right = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = theta.AsSpan(r * Classes, Classes);
            if (row.IndexOf(MaxOf(row)) == c[r]) right++;
        }
        Assert.True(right > 0.9 * rows, $"top-1 training accuracy {right} / {rows}");

        static float MaxOf(ReadOnlySpan<float> v)
        {
            float m = v[0];
            foreach (float e in v) m = Math.Max(m, e);
            return m;
        }
    }
}
