namespace Microsoft.ML.Perturbed.Tests;

/// <summary>Closed forms and enumerations the tests compare against.</summary>
internal static class TestMath
{
    public static double LogSumExp(ReadOnlySpan<float> x, double scale = 1)
    {
        double max = double.NegativeInfinity;
        foreach (float v in x) max = Math.Max(max, v / scale);
        double s = 0;
        foreach (float v in x) s += Math.Exp(v / scale - max);
        return max + Math.Log(s);
    }

    public static double[] Softmax(ReadOnlySpan<float> x, double scale = 1)
    {
        double lse = LogSumExp(x, scale);
        var p = new double[x.Length];
        for (int i = 0; i < x.Length; i++) p[i] = Math.Exp(x[i] / scale - lse);
        return p;
    }

    public static float[] RandomVector(System.Random rng, int n, double scale = 1)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return v;
    }

    public static IEnumerable<int[]> Permutations(int n)
    {
        var p = Enumerable.Range(0, n).ToArray();
        return Permute(p, 0);

        static IEnumerable<int[]> Permute(int[] p, int k)
        {
            if (k == p.Length)
            {
                yield return (int[])p.Clone();
                yield break;
            }
            for (int i = k; i < p.Length; i++)
            {
                (p[k], p[i]) = (p[i], p[k]);
                foreach (int[] q in Permute(p, k + 1)) yield return q;
                (p[k], p[i]) = (p[i], p[k]);
            }
        }
    }

    public static IEnumerable<int[]> Subsets(int n, int k)
    {
        for (int mask = 0; mask < 1 << n; mask++)
        {
            if (System.Numerics.BitOperations.PopCount((uint)mask) == k)
            {
                yield return Enumerable.Range(0, n).Where(i => (mask & (1 << i)) != 0).ToArray();
            }
        }
    }

    /// <summary>
    /// Asserts that <paramref name="gradient"/> is the central difference (step <paramref name="h"/>) of
    /// <paramref name="loss"/> in each of <paramref name="model"/>'s parameters, within <paramref name="tolerance"/>.
    /// </summary>
    public static void AssertFiniteDifferences(Microsoft.ML.Perturbed.Training.ITrainableModel model, Func<double> loss, ReadOnlySpan<double> gradient, float h = 1e-2f, double tolerance = 1e-3)
    {
        Span<float> parameters = model.Parameters;
        for (int i = 0; i < parameters.Length; i++)
        {
            float keep = parameters[i];
            parameters[i] = keep + h;
            double up = loss();
            parameters[i] = keep - h;
            double down = loss();
            parameters[i] = keep;
            double fd = (up - down) / (2 * h);
            Assert.True(Math.Abs(fd - gradient[i]) < tolerance, $"parameter {i}: FD {fd} vs {gradient[i]}");
        }
    }

    /// <summary>Checks a soft operator's double-precision VJP gᵀJ at x against central differences of ⟨g, f(x ± h eₖ)⟩.</summary>
    public static void AssertDoubleVjpMatchesFiniteDifferences(Microsoft.ML.Perturbed.Sorting.RowOperator op, double[] x, double[] g, double tolerance, double h = 1e-6)
    {
        int n = x.Length, o = g.Length;
        var vjp = new double[n];
        op.ForwardVjp(x, g, new double[o], vjp);
        for (int k = 0; k < n; k++)
        {
            double[] plus = (double[])x.Clone(), minus = (double[])x.Clone();
            plus[k] += h;
            minus[k] -= h;
            double[] fp = new double[o], fm = new double[o];
            op.Forward(plus, fp);
            op.Forward(minus, fm);
            double fd = Enumerable.Range(0, o).Sum(i => g[i] * (fp[i] - fm[i]) / (2 * h));
            Assert.True(Math.Abs(fd - vjp[k]) <= tolerance * (1 + Math.Abs(fd)), $"VJP[{k}] = {vjp[k]}, finite differences {fd}");
        }
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }
}
