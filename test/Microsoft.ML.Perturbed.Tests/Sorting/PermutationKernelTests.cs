using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Tests.Sorting;

public class PermutationKernelTests
{
    /// <summary>O(n²) reference: concordant minus discordant, discordant and tied pairs.</summary>
    private static (long Score, long Discordant, long Tied) BruteForce(double[] x, double[] y)
    {
        long score = 0, discordant = 0, tied = 0;
        for (int i = 0; i < x.Length; i++)
        {
            for (int j = i + 1; j < x.Length; j++)
            {
                int s = Math.Sign(x[i] - x[j]) * Math.Sign(y[i] - y[j]);
                if (s > 0) score++;
                else if (s < 0) { score--; discordant++; }
                else tied++;
            }
        }
        return (score, discordant, tied);
    }

    /// <summary>Random scores; with ties, drawn from few distinct values.</summary>
    private static double[] Scores(System.Random rng, int n, bool ties)
        => Enumerable.Range(0, n).Select(_ => ties ? rng.Next(0, Math.Max(2, n / 3)) : rng.NextDouble() * 10 - 5).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Kernels_match_brute_force_pair_counting(bool ties)
    {
        var rng = new System.Random(ties ? 7 : 3);
        foreach (int n in new[] { 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 64, 100, 257 })
        {
            for (int trial = 0; trial < 20; trial++)
            {
                double[] x = Scores(rng, n, ties), y = Scores(rng, n, ties);
                (long score, long discordant, long tied) = BruteForce(x, y);
                double pairs = n * (n - 1) / 2.0;
                Assert.Equal(score / pairs, PermutationKernels.Kendall<double>(x, y), 12);
                Assert.Equal(Math.Exp(-0.3 * (discordant + 0.5 * tied)), PermutationKernels.Mallows<double>(x, y, 0.3), 12);
                Assert.Equal(score / pairs, PermutationKernels.Kendall<float>(x.Select(v => (float)v).ToArray(), y.Select(v => (float)v).ToArray()), 12);
            }
        }
    }

    [Fact]
    public void Kernel_of_a_vector_with_itself_is_one_without_ties()
    {
        var rng = new System.Random(5);
        foreach (int n in new[] { 2, 10, 1000 })
        {
            double[] x = Scores(rng, n, ties: false);
            Assert.Equal(1.0, PermutationKernels.Kendall<double>(x, x), 14);
            Assert.Equal(1.0, PermutationKernels.Mallows<double>(x, x, 2.0), 14);
            double[] reversed = x.Select(v => -v).ToArray();
            Assert.Equal(-1.0, PermutationKernels.Kendall<double>(x, reversed), 14);
            Assert.Equal(Math.Exp(-0.01 * n * (n - 1) / 2.0), PermutationKernels.Mallows<double>(x, reversed, 0.01), 12);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gram_matrices_are_symmetric_positive_semidefinite_and_match_the_pair_kernels(bool ties)
    {
        var rng = new System.Random(11);
        const int m = 40, n = 12;
        double[] rows = Enumerable.Range(0, m).SelectMany(_ => Scores(rng, n, ties)).ToArray();
        var kendall = new double[m * m];
        var mallows = new double[m * m];
        PermutationKernels.KendallGram<double>(rows, n, kendall);
        PermutationKernels.MallowsGram<double>(rows, n, 0.2, mallows);
        for (int a = 0; a < m; a++)
        {
            for (int b = 0; b < m; b++)
            {
                ReadOnlySpan<double> x = rows.AsSpan(a * n, n), y = rows.AsSpan(b * n, n);
                Assert.Equal(PermutationKernels.Kendall(x, y), kendall[a * m + b]);
                Assert.Equal(PermutationKernels.Mallows(x, y, 0.2), mallows[a * m + b]);
            }
        }
        foreach (double[] gram in new[] { kendall, mallows })
        {
            Matrix<double> matrix = Matrix<double>.Build.Dense(m, m, gram);
            Assert.True(matrix.IsSymmetric());
            double smallest = matrix.Evd(Symmetricity.Symmetric).EigenValues.Min(v => v.Real);
            Assert.True(smallest >= -1e-9, $"smallest eigenvalue {smallest}");
        }
    }

    [Fact]
    public void Centered_embedding_inner_products_are_concordant_minus_discordant_pairs()
    {
        var rng = new System.Random(13);
        foreach (int n in new[] { 2, 5, 30 })
        {
            foreach (bool ties in new[] { false, true })
            {
                const int m = 6;
                float[] rows = Enumerable.Range(0, m * n).Select(_ => ties ? rng.Next(0, 4) : (float)rng.NextDouble()).ToArray();
                int length = PermutationKernels.EmbeddingLength(n);
                Assert.Equal(n * (n - 1) / 2, length);
                var phi = new float[m * length];
                PermutationKernels.Embedding<float>(rows, n, phi);
                Assert.All(phi, v => Assert.Contains(v, new[] { 0f, 0.5f, 1f }));
                for (int a = 0; a < m; a++)
                {
                    for (int b = 0; b < m; b++)
                    {
                        double dot = 0;
                        for (int k = 0; k < length; k++) dot += (2.0 * phi[a * length + k] - 1) * (2.0 * phi[b * length + k] - 1);
                        double[] x = rows.AsSpan(a * n, n).ToArray().Select(v => (double)v).ToArray();
                        double[] y = rows.AsSpan(b * n, n).ToArray().Select(v => (double)v).ToArray();
                        Assert.Equal(BruteForce(x, y).Score, dot, 9);
                    }
                }
            }
        }
    }

    [Fact]
    public void Embedding_orders_pairs_row_by_row_and_the_smooth_one_tends_to_it()
    {
        float[] x = [3, 1, 2, 2];
        var phi = new float[6];
        PermutationKernels.Embedding<float>(x, 4, phi);
        Assert.Equal(new float[] { 0, 0, 0, 1, 1, 0.5f }, phi);   // (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
        var smooth = new float[6];
        PermutationKernels.SmoothEmbedding<float>(x, 4, 1e-3, smooth);
        for (int k = 0; k < 6; k++) Assert.Equal(phi[k], smooth[k], 5);
        PermutationKernels.SmoothEmbedding<float>(x, 4, 1.0, smooth);
        Assert.Equal(1 / (1 + Math.Exp(2)), smooth[0], 6);   // σ((x₁ − x₀)/ε) = σ(−2)
    }

    [Fact]
    public void Smooth_embedding_of_soft_ranks_is_differentiable_as_documented()
    {
        const int n = 5;
        double[] theta = [0.3, -1.2, 2.0, 0.9, 0.1];
        var rank = new SoftRank(n, epsilon: 0.5);
        var ranks = new double[n];
        rank.Forward(theta, ranks);
        var phi = new double[10];
        PermutationKernels.SmoothEmbedding<double>(ranks, n, 0.7, phi);
        const double h = 1e-6;
        var shifted = (double[])ranks.Clone();
        shifted[3] += h;
        var phiShifted = new double[10];
        PermutationKernels.SmoothEmbedding<double>(shifted, n, 0.7, phiShifted);
        const int k13 = 5;   // (0,1)…(0,4) take 0..3, (1,2) is 4, (1,3) is 5
        Assert.Equal(phi[k13] * (1 - phi[k13]) / 0.7, (phiShifted[k13] - phi[k13]) / h, 5);
    }

    [Fact]
    public void Results_do_not_depend_on_the_thread_count()
    {
        var rng = new System.Random(17);
        const int m = 33, n = 50;
        float[] rows = Enumerable.Range(0, m * n).Select(_ => (float)rng.Next(0, 20)).ToArray();
        var one = new double[m * m];
        var all = new double[m * m];
        PermutationKernels.KendallGram<float>(rows, n, one, maxDegreeOfParallelism: 1);
        PermutationKernels.KendallGram<float>(rows, n, all);
        Assert.Equal(one, all);
        PermutationKernels.MallowsGram<float>(rows, n, 0.1, one, maxDegreeOfParallelism: 1);
        PermutationKernels.MallowsGram<float>(rows, n, 0.1, all);
        Assert.Equal(one, all);
        int length = PermutationKernels.EmbeddingLength(n);
        var e1 = new float[m * length];
        var e2 = new float[m * length];
        PermutationKernels.SmoothEmbedding<float>(rows, n, 0.3, e1, maxDegreeOfParallelism: 1);
        PermutationKernels.SmoothEmbedding<float>(rows, n, 0.3, e2);
        Assert.Equal(e1, e2);
    }

    [Fact]
    public void Bad_input_is_refused_naming_the_argument()
    {
        double[] x = [1, 2, 3];
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => PermutationKernels.Kendall<double>(x, new double[2])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => PermutationKernels.Kendall<double>(new double[1], new double[1])).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => PermutationKernels.Kendall<double>(x, new[] { 1, double.NaN, 3 })).ParamName);
        Assert.Equal("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => PermutationKernels.Mallows<double>(x, x, -1)).ParamName);
        Assert.Equal("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => PermutationKernels.MallowsGram<double>(x, 3, double.PositiveInfinity, new double[1])).ParamName);
        Assert.Equal("gram", Assert.Throws<ArgumentException>(() => PermutationKernels.KendallGram<double>(x, 3, new double[2])).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentException>(() => PermutationKernels.KendallGram<double>(x, 2, new double[1])).ParamName);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => PermutationKernels.KendallGram<double>(x, 1, new double[9])).ParamName);
        Assert.Equal("embedding", Assert.Throws<ArgumentException>(() => PermutationKernels.Embedding<double>(x, 3, new double[2])).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => PermutationKernels.SmoothEmbedding<double>(x, 3, 0, new double[3])).ParamName);
        Assert.Equal("maxDegreeOfParallelism", Assert.Throws<ArgumentOutOfRangeException>(() => PermutationKernels.Embedding<double>(x, 3, new double[3], 0)).ParamName);
        var tooLarge = Assert.Throws<ArgumentOutOfRangeException>(() => PermutationKernels.EmbeddingLength(5794));
        Assert.Equal("dimension", tooLarge.ParamName);
        Assert.Contains("16777216", tooLarge.Message);
        Assert.Equal(5793 * 5792 / 2, PermutationKernels.EmbeddingLength(5793));
    }
}
