namespace Microsoft.ML.Perturbed.Tests.Robustness;

/// <summary>
/// The seeded cases of the fuzz suite (<see cref="FuzzTests"/>, <see cref="SoftSortingFuzzTests"/>) and the checks they
/// share: magnitudes from the smallest subnormal float to float's maximum, strengths from 0 to 1e300, ties, mixed scales,
/// rows whose sum cancels, and NaN/∞ at a given row and column.
/// </summary>
internal static class FuzzCases
{
    public static readonly double[] Magnitudes = [1.4e-45, 1e-30, 1e-6, 1, 1e6, 1e30, 3.4e38];
    public static readonly double[] Strengths = [0, 5e-324, 1e-300, 1e-40, 1e-10, 1e-3, 0.5, 1, 1e3, 1e10, 1e300];
    public static readonly int[] Lengths = [1, 2, 3, 5, 8, 17];

    /// <summary>
    /// How a row is drawn: uniform in ±magnitude, ties among {−1, 0, 1}·magnitude, all equal, a bad value, mixed scales
    /// (each value's own magnitude between 1e-45 and the case's), or values of the case's magnitude whose sum cancels
    /// to a small fraction of Σ|θ|.
    /// </summary>
    public enum Pattern { Random, Ties, AllEqual, Bad, Mixed, Cancelling }

    public sealed record Case(int Index, string Operator, int N, int Batch, double Magnitude, double Epsilon, Pattern Pattern, int BadRow, int BadColumn, float BadValue)
    {
        public override string ToString() => $"#{Index} {Operator} n={N} batch={Batch} |θ|~{Magnitude:G2} ε={Epsilon:G2} {Pattern}" + (Pattern == Pattern.Bad ? $" {BadValue} at ({BadRow}, {BadColumn})" : "");
    }

    public static IEnumerable<Case> Cases(string[] operators, int count, int seed, bool mixedScales = false)
    {
        var rng = new System.Random(seed);
        int patterns = mixedScales ? 6 : 4;
        for (int i = 0; i < count; i++)
        {
            int n = Lengths[rng.Next(Lengths.Length)], batch = rng.Next(1, 4);
            var pattern = (Pattern)rng.Next(patterns);
            yield return new Case(i, operators[rng.Next(operators.Length)], n, batch, Magnitudes[rng.Next(Magnitudes.Length)], Strengths[rng.Next(Strengths.Length)],
                pattern, rng.Next(batch), rng.Next(n), new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity }[rng.Next(3)]);
        }
    }

    public static float[] Input(Case c, int seed)
    {
        var rng = new System.Random(seed);
        var x = new float[c.Batch * c.N];
        double top = Math.Log10(c.Magnitude);
        for (int i = 0; i < x.Length; i++)
        {
            double u = c.Pattern switch
            {
                Pattern.Random or Pattern.Bad or Pattern.Cancelling => rng.NextDouble() * 2 - 1,
                Pattern.Ties => rng.Next(-1, 2),
                Pattern.AllEqual => 0.75,
                Pattern.Mixed => (rng.NextDouble() * 2 - 1) * Math.Pow(10, -45 + rng.NextDouble() * (top + 45)) / c.Magnitude,
                _ => throw new ArgumentOutOfRangeException(nameof(c)),
            };
            x[i] = (float)Math.Clamp(u * c.Magnitude, -float.MaxValue, float.MaxValue);
        }
        if (c.Pattern == Pattern.Cancelling && c.N > 1)
        {
            for (int r = 0; r < c.Batch; r++)
            {
                // The last value takes back the others' sum up to 1% of the magnitude (when it fits in float).
                double rest = 0;
                for (int j = 0; j < c.N - 1; j++) rest += x[r * c.N + j];
                x[r * c.N + c.N - 1] = (float)Math.Clamp(-rest + 0.01 * c.Magnitude, -float.MaxValue, float.MaxValue);
            }
        }
        if (c.Pattern == Pattern.Bad) x[c.BadRow * c.N + c.BadColumn] = c.BadValue;
        return x;
    }

    /// <summary>A bad value must be refused naming the argument, its row and its column.</summary>
    public static void AssertNamesTheBadValue(Case c, Action call, string argument)
    {
        var e = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(argument, e.ParamName);
        Assert.Contains($"row {c.BadRow}, column {c.BadColumn}", e.Message);
    }

    public static bool IsRefusalOfEpsilon(Exception e) =>
        e is ArgumentOutOfRangeException { ParamName: "epsilon" or "vjp" or "solution" } && e.Message.Contains('ε');

    /// <summary>Hard (ε → 0) ascending ranks of a row, ties sharing their mean rank.</summary>
    public static double[] HardRanks(ReadOnlySpan<float> x)
    {
        var ranks = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int below = 0, equal = 0;
            for (int j = 0; j < x.Length; j++)
            {
                if (x[j] < x[i]) below++;
                else if (x[j] == x[i]) equal++;
            }
            ranks[i] = below + (equal + 1) / 2.0;
        }
        return ranks;
    }

    /// <summary>y lies in the permutahedron of ρ = (1..n): Σ y = Σ ρ and every k smallest entries sum to at least the k smallest of ρ.</summary>
    public static void AssertInPermutahedron(ReadOnlySpan<float> y, string what, double tolerance = 1e-4)
    {
        int n = y.Length;
        double[] sorted = y.ToArray().Select(v => (double)v).Order().ToArray();
        double partial = 0;
        for (int k = 0; k < n; k++)
        {
            partial += sorted[k];
            double floor = (k + 1) * (k + 2) / 2.0;
            Assert.True(partial >= floor - tolerance * n * n, $"{what}: the {k + 1} smallest sum to {partial} < {floor}");
        }
        Assert.Equal(n * (n + 1) / 2.0, partial, tolerance * n * n);
    }

    /// <summary>Properties that must hold at every scale: magnitudes from 1e-45 to 3.4e38 through an exponent.</summary>
    public static float[] Scaled(float[] raw, int exponent)
    {
        double scale = Math.Pow(10, Math.Clamp(exponent % 77, -44, 38));
        return raw.Select(v => float.IsFinite(v) ? (float)Math.Clamp(Math.Clamp(v, -3.4, 3.4) * scale, -float.MaxValue, float.MaxValue) : 0f).ToArray();
    }
}
