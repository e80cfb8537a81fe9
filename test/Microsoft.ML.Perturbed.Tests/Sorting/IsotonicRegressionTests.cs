using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Tests.Sorting;

public class IsotonicRegressionTests
{
    /// <summary>
    /// Independent reference for the non-increasing L2 fit: vᵢ = min over a ≤ i of max over b ≥ i of mean(y[a..b])
    /// (the classic min–max formula of isotonic regression, reversed for a decreasing order). O(n³), for small n.
    /// </summary>
    private static double[] MinMaxReference(double[] y)
    {
        int n = y.Length;
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            double best = double.PositiveInfinity;
            for (int a = 0; a <= i; a++)
            {
                double inner = double.NegativeInfinity;
                for (int b = i; b < n; b++)
                {
                    double mean = 0;
                    for (int k = a; k <= b; k++) mean += y[k];
                    inner = Math.Max(inner, mean / (b - a + 1));
                }
                best = Math.Min(best, inner);
            }
            v[i] = best;
        }
        return v;
    }

    [Fact]
    public void L2_fit_matches_the_min_max_formula_and_is_non_increasing()
    {
        var rng = new System.Random(1);
        for (int trial = 0; trial < 200; trial++)
        {
            double[] y = Enumerable.Range(0, rng.Next(1, 12)).Select(_ => Math.Round(rng.NextDouble() * 10 - 5, 1)).ToArray();
            var v = new double[y.Length];
            IsotonicRegression.L2(y, v);
            double[] reference = MinMaxReference(y);
            for (int i = 0; i < y.Length; i++) Assert.Equal(reference[i], v[i], 10);
            for (int i = 1; i < y.Length; i++) Assert.True(v[i] <= v[i - 1] + 1e-12);
            Assert.Equal(y.Sum(), v.Sum(), 9);   // each block keeps its sum
        }
    }

    [Fact]
    public void KL_fit_satisfies_its_optimality_conditions()
    {
        // For min ⟨e^{y−v}, 1⟩ + ⟨e^w, v⟩ with v non-increasing, each block B has e^{v_B} = Σ_B e^{y} / Σ_B e^{w}, i.e.
        // Σ_B e^{yᵢ − v_B} = Σ_B e^{wᵢ}; and v is non-increasing. Also compare the objective with small perturbations.
        var rng = new System.Random(2);
        for (int trial = 0; trial < 100; trial++)
        {
            int n = rng.Next(1, 10);
            double[] y = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 6 - 3).ToArray();
            double[] w = Enumerable.Range(0, n).Select(k => Math.Log(n - k)).ToArray();
            var v = new double[n];
            IsotonicRegression.KL(y, w, v);
            for (int i = 1; i < n; i++) Assert.True(v[i] <= v[i - 1] + 1e-12);
            double Objective(double[] x) => Enumerable.Range(0, n).Sum(i => Math.Exp(y[i] - x[i]) + Math.Exp(w[i]) * x[i]);
            double best = Objective(v);
            for (int probe = 0; probe < 50; probe++)
            {
                double[] u = v.Select(x => x + (rng.NextDouble() - 0.5) * 0.1).ToArray();
                Array.Sort(u);
                Array.Reverse(u);   // keep it feasible (non-increasing)
                Assert.True(Objective(u) >= best - 1e-9, "a feasible perturbation lowered the KL objective");
            }
        }
    }

    [Fact]
    public void Bad_lengths_throw()
    {
        Assert.Throws<ArgumentException>(() => IsotonicRegression.L2([1, 2], new double[3]));
        Assert.Throws<ArgumentException>(() => IsotonicRegression.KL([1, 2], [1], new double[2]));
    }
}
