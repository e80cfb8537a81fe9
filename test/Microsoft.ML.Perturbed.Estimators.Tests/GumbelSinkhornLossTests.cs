using Microsoft.ML.Perturbed.Experiments;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>The Gumbel-Sinkhorn loss of the sorting experiment: its gradient, its invariances and its bits.</summary>
public class GumbelSinkhornLossTests
{
    private static float[] Scores(int rows, int n, int seed)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, rows * n * n).Select(_ => (float)(2 * rng.NextDouble() - 1)).ToArray();
    }

    private static float[] Permutations(int rows, int n, int seed)
    {
        var rng = new System.Random(seed);
        var y = new float[rows * n * n];
        for (int r = 0; r < rows; r++)
        {
            int[] order = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
            for (int i = 0; i < n; i++) y[r * n * n + i * n + order[i]] = 1;
        }
        return y;
    }

    [Fact]
    public void The_gradient_is_the_derivative_of_the_value_at_a_fixed_draw()
    {
        const int n = 4;
        var loss = new GumbelSinkhornLoss(n, temperature: 0.7, iterations: 6, samples: 3, seed: 5);
        float[] theta = Scores(1, n, 1), y = Permutations(1, n, 2);
        var gradient = new float[n * n];
        var value = new float[1];
        loss.Evaluate(theta, y, value, gradient, draw: 9);
        const float h = 1e-2f;
        var scratch = new float[n * n];
        for (int k = 0; k < n * n; k++)
        {
            float[] plus = (float[])theta.Clone(), minus = (float[])theta.Clone();
            plus[k] += h;
            minus[k] -= h;
            double fPlus = loss.Evaluate(plus, y, value, scratch, draw: 9), fMinus = loss.Evaluate(minus, y, value, scratch, draw: 9);
            double numeric = (fPlus - fMinus) / ((double)plus[k] - minus[k]);
            Assert.True(Math.Abs(numeric - gradient[k]) < 2e-3 + 1e-2 * Math.Abs(numeric), $"entry {k}: analytic {gradient[k]}, central difference {numeric}.");
        }
    }

    [Fact]
    public void Shifting_a_row_of_scores_changes_nothing_so_each_row_of_the_gradient_sums_to_zero()
    {
        const int n = 5;
        var loss = new GumbelSinkhornLoss(n, seed: 3);
        float[] theta = Scores(1, n, 7), y = Permutations(1, n, 8);
        var gradient = new float[n * n];
        var value = new float[1];
        double f = loss.Evaluate(theta, y, value, gradient, draw: 4);
        for (int i = 0; i < n; i++) Assert.Equal(0, gradient.AsSpan(i * n, n).ToArray().Sum(), 1e-5);
        float[] shifted = (float[])theta.Clone();
        for (int j = 0; j < n; j++) shifted[2 * n + j] += 0.5f;
        Assert.Equal(f, loss.Evaluate(shifted, y, value, new float[n * n], draw: 4), 1e-6);
    }

    [Fact]
    public void Without_noise_constant_scores_give_the_uniform_matrix_its_closed_form_value_and_a_gradient_towards_the_target()
    {
        // P = J/n: ½‖J/n − y‖² = ½[n(1 − 1/n)² + (n² − n)/n²] = (n − 1)/2; raising a target entry's score lowers the loss.
        const int n = 6;
        var loss = new GumbelSinkhornLoss(n, noiseScale: 0, samples: 1);
        float[] theta = Enumerable.Repeat(0.3f, n * n).ToArray(), y = Permutations(1, n, 1);
        var gradient = new float[n * n];
        Assert.Equal((n - 1) / 2.0, loss.Evaluate(theta, y, new float[1], gradient), 1e-6);
        for (int k = 0; k < n * n; k++) Assert.True(y[k] == 1 ? gradient[k] < 0 : gradient[k] > 0, $"entry {k}: gradient {gradient[k]}, target {y[k]}.");
    }

    [Fact]
    public void Many_iterations_make_the_soft_permutation_doubly_stochastic_and_a_sharp_one_reaches_the_target()
    {
        // Scores c·y at a low temperature: the Sinkhorn limit is close to y, so the value is near 0.
        const int n = 5;
        float[] y = Permutations(1, n, 4);
        float[] theta = y.Select(v => 10 * v).ToArray();
        var sharp = new GumbelSinkhornLoss(n, temperature: 0.5, iterations: 50, noiseScale: 0, samples: 1);
        Assert.True(sharp.Evaluate(theta, y, new float[1], new float[n * n]) < 1e-6);
    }

    [Fact]
    public void Same_seed_and_draw_give_the_same_bits_on_one_thread_or_many()
    {
        const int n = 6, rows = 9;
        float[] theta = Scores(rows, n, 11), y = Permutations(rows, n, 12);
        var one = new GumbelSinkhornLoss(n, seed: 2) { MaxDegreeOfParallelism = 1 };
        var many = new GumbelSinkhornLoss(n, seed: 2) { MaxDegreeOfParallelism = 4 };
        float[] g1 = new float[rows * n * n], g2 = new float[rows * n * n], v1 = new float[rows], v2 = new float[rows];
        one.Evaluate(theta, y, v1, g1, draw: 17);
        many.Evaluate(theta, y, v2, g2, draw: 17);
        Assert.Equal(v1, v2);
        Assert.Equal(g1, g2);
        // Another draw is other noise.
        many.Evaluate(theta, y, v2, g2, draw: 18);
        Assert.NotEqual(v1, v2);
    }

    [Fact]
    public void Bad_settings_are_refused_naming_the_argument()
    {
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => new GumbelSinkhornLoss(0)).ParamName);
        Assert.Equal("temperature", Assert.Throws<ArgumentOutOfRangeException>(() => new GumbelSinkhornLoss(3, temperature: 0)).ParamName);
        Assert.Equal("iterations", Assert.Throws<ArgumentOutOfRangeException>(() => new GumbelSinkhornLoss(3, iterations: 0)).ParamName);
        Assert.Equal("samples", Assert.Throws<ArgumentOutOfRangeException>(() => new GumbelSinkhornLoss(3, samples: 0)).ParamName);
        Assert.Equal("noiseScale", Assert.Throws<ArgumentOutOfRangeException>(() => new GumbelSinkhornLoss(3, noiseScale: double.NaN)).ParamName);
    }
}
