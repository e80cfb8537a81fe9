using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Xunit.Abstractions;
using static Microsoft.ML.Perturbed.Tests.Robustness.FuzzCases;

namespace Microsoft.ML.Perturbed.Tests.Robustness;

/// <summary>
/// The project's own fuzz suite (seeded, a few hundred cases per sweep; the cases and shared checks are in
/// <see cref="FuzzCases"/>, the soft sorting sweeps in <see cref="SoftSortingFuzzTests"/>): every case either returns a
/// correct result — invariants that hold at every scale, the float64 computation, or the exact limit — or throws an
/// exception of the right type that names the argument (and the row and column for a bad value). Nothing may come back
/// NaN, ∞ or silently wrong.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Perturbed_heads_and_losses_at_every_scale()
    {
        string[] operators = ["Ranking", "Argmax", "TopK", "FenchelYoung"];
        int ok = 0, refused = 0;
        foreach (Case c in Cases(operators, 240, seed: 2))
        {
            float[] x = Input(c, c.Index);
            Oracle head = c.Operator switch
            {
                "Ranking" or "FenchelYoung" => new RankingOracle(c.N),
                "Argmax" => new ArgmaxOracle(c.N),
                "TopK" => new TopKOracle(c.N, (c.N + 1) / 2),
                _ => throw new ArgumentOutOfRangeException(nameof(c), c.Operator, "Unknown fuzz operator."),
            };
            PerturbedOptimizer opt;
            try
            {
                opt = new PerturbedOptimizer(head, new PerturbedOptimizerOptions { Epsilon = c.Epsilon, Samples = 8, Seed = c.Index });
            }
            catch (ArgumentOutOfRangeException e)
            {
                Assert.Equal("Epsilon", e.ParamName);
                Assert.True(!(c.Epsilon >= PerturbedOptimizerOptions.MinEpsilon && c.Epsilon <= PerturbedOptimizerOptions.MaxEpsilon), $"{c}: refused a valid ε");
                refused++;
                continue;
            }
            var y = new float[x.Length];
            if (c.Pattern == Pattern.Bad)
            {
                AssertNamesTheBadValue(c, () => opt.Forward(x, y), "theta");
                continue;
            }
            if (c.Operator == "FenchelYoung")
            {
                // Targets: the hard ranks of θ itself, so the loss is small at every scale (≤ its value at θ = 0 plus the noise).
                float[] target = new float[x.Length];
                head.Solve(x, target);
                var values = new float[c.Batch];
                try
                {
                    new FenchelYoungLoss(opt).Evaluate(x, target, values, new float[x.Length]);
                }
                catch (ArgumentException e) when (e.Message.Contains("overflow"))
                {
                    refused++;   // θ + εZ beyond float (scores near float's maximum with a large ε)
                    continue;
                }
                Assert.All(values, v => Assert.True(float.IsFinite(v) && Math.Abs(v) <= 10 * c.Epsilon * c.N * c.N + 1e-3 * c.N, $"{c}: FY value {v}"));
                ok++;
                continue;
            }
            var fHat = new double[c.Batch];
            var vjp = new float[x.Length];
            try
            {
                opt.Forward(x, y, fHat);
                opt.ForwardVjp(x, TestMath.RandomVector(new System.Random(c.Index), x.Length), y, vjp);
            }
            catch (ArgumentException e) when (e.Message.Contains("overflow") || IsRefusalOfEpsilon(e) || e.ParamName == "vjp")
            {
                refused++;
                continue;
            }
            Assert.All(fHat, v => Assert.True(double.IsFinite(v), $"{c}: F̂ {v}"));
            Assert.All(vjp, v => Assert.True(float.IsFinite(v), $"{c}: VJP {v}"));
            for (int r = 0; r < c.Batch; r++)
            {
                ReadOnlySpan<float> row = y.AsSpan(r * c.N, c.N);
                switch (c.Operator)
                {
                    case "Ranking":
                        AssertInPermutahedron(row, c.ToString());
                        break;
                    case "Argmax":
                        Assert.All(row.ToArray(), v => Assert.InRange(v, 0f, 1f));
                        Assert.Equal(1, row.ToArray().Sum(), 4);
                        break;
                    case "TopK":
                        Assert.All(row.ToArray(), v => Assert.InRange(v, 0f, 1f));
                        Assert.Equal((c.N + 1) / 2, row.ToArray().Sum(), 4);
                        break;
                    default:
                        throw new ArgumentOutOfRangeException(nameof(c), c.Operator, "Unknown fuzz operator.");
                }
            }
            ok++;
        }
        output.WriteLine($"{ok} correct results, {refused} clear refusals");
        Assert.True(ok > 80, $"only {ok} cases produced results");
    }

    [Property(MaxTest = 100)]
    public Property Perturbed_ranks_lie_in_the_permutahedron_at_every_scale(NonEmptyArray<float> raw, int exponent)
    {
        float[] x = Scaled(raw.Get, exponent);
        var y = new float[x.Length];
        new PerturbedOptimizer(new RankingOracle(x.Length), new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = 5 }).Forward(x, y);
        AssertInPermutahedron(y, "perturbed ranks");
        return true.ToProperty();
    }
}
