using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Tests.Data;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Losses;

/// <summary>
/// Encoded targets (docs/architecture.md, "Losses"): SPO+ stores y*(s) after the true costs s, computed once per row for
/// in-memory training instead of at every step, with the same bits as solving it each time.
/// </summary>
public class EncodedTargetTests
{
    private const int P = 5;

    /// <summary>A loss that hides its inner loss's encoded form: every evaluation gets the targets as they are.</summary>
    private sealed class RawTargets(StructuredLoss inner) : StructuredLoss(inner.Dimension, inner.TargetDimension)
    {
        public override string Name => $"Raw({inner.Name})";

        protected override void EvaluateCore(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient, ulong draw)
            => inner.Evaluate(theta, target, loss, gradient, draw);
    }

    private static (float[] X, float[] Costs) Data(int n, Oracle head, int seed)
    {
        var rng = new System.Random(seed);
        float[] x = TestMath.RandomVector(rng, n * P);
        float[] c = TestMath.RandomVector(rng, n * head.Dimension).Select(v => 0.1f + Math.Abs(v + 0.5f * x[0])).ToArray();
        return (x, c);
    }

    [Fact]
    public void Spo_plus_encodes_a_target_as_the_costs_then_their_solution()
    {
        var head = DagShortestPathOracle.Grid(3, 3);
        var loss = new SpoPlusLoss(head);
        Assert.Equal(2 * head.Dimension, loss.EncodedTargetDimension);
        (_, float[] c) = Data(4, head, 1);
        var encoded = new float[4 * loss.EncodedTargetDimension];
        loss.EncodeTargets(c, encoded);
        var solutions = new float[c.Length];
        head.Solve(c, solutions);
        int d = head.Dimension;
        for (int r = 0; r < 4; r++)
        {
            Assert.Equal(c.AsSpan(r * d, d).ToArray(), encoded.AsSpan(2 * r * d, d).ToArray());
            Assert.Equal(solutions.AsSpan(r * d, d).ToArray(), encoded.AsSpan(2 * r * d + d, d).ToArray());
        }
        Assert.Equal("encoded", Assert.Throws<ArgumentException>(() => loss.EncodeTargets(c, new float[encoded.Length - 1])).ParamName);
        c[d + 2] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => loss.EncodeTargets(c, encoded));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("row 1, column 2", e.Message);
        // A loss without an encoded form says so, and its encoding is the target itself.
        StructuredLoss fy = StructuredLoss.Create(head, StructuredLossKind.FenchelYoung);
        Assert.Equal(fy.TargetDimension, fy.EncodedTargetDimension);
    }

    [Fact]
    public void In_memory_spo_plus_training_solves_each_rows_true_costs_once_per_run()
    {
        long solves = 0;
        const int d = 4, n = 20, epochs = 3;
        Oracle head = Oracle.Create(d, d, (theta, y) =>
        {
            Interlocked.Increment(ref solves);
            int best = 0;
            for (int i = 1; i < d; i++) if (theta[i] > theta[best]) best = i;
            y[best] = 1;
        }, "CountingArgmax");
        (float[] x, float[] c) = Data(n, head, 2);
        StructuredTrainer.Fit(head, x, c, P, new StructuredTrainerOptions { Loss = StructuredLossKind.SpoPlus, NumberOfIterations = epochs, BatchSize = 8 });
        // y*(s) once per row, then y*(2θ − s) once per row and step; solving y*(s) at every step would be 2 · n · epochs.
        Assert.Equal(n + n * epochs, solves);
    }

    public static TheoryData<string> Sources() => ["arrays", "arrays+validation", "sparse rows", "stream"];

    [Theory]
    [MemberData(nameof(Sources))]
    public void Encoded_targets_train_to_the_same_bits_as_solving_the_costs_at_every_step(string source)
    {
        var head = DagShortestPathOracle.Grid(3, 3);
        int d = head.Dimension, n = 60;
        (float[] x, float[] c) = Data(n, head, 3);
        IScoreModel Train(Func<Oracle, StructuredLoss>? factory)
        {
            var options = new StructuredTrainerOptions { Loss = StructuredLossKind.SpoPlus, LossFactory = factory, NumberOfIterations = 3, BatchSize = 16, Seed = 4 };
            switch (source)
            {
                case "arrays":
                    return StructuredTrainer.Fit(head, x, c, P, options);
                case "arrays+validation":
                    return StructuredTrainer.Fit(head, x[..(40 * P)], c[..(40 * d)], P, options, x[(40 * P)..], c[(40 * d)..]);
                case "sparse rows":
                    return StructuredTrainer.Fit(head, TrainingSource.FromRows(SparseData.Sparse(x, c, P, d)), options);
                case "stream":
                    var rows = SparseData.Sparse(x, c, P, d);
                    return StructuredTrainer.Fit(head, TrainingSource.FromStream(new ReplayStream(rows), shufflePoolSize: 7), options);
                default:
                    throw new ArgumentOutOfRangeException(nameof(source), source, "Unknown source.");
            }
        }
        IScoreModel encoded = Train(null), raw = Train(h => new RawTargets(new SpoPlusLoss(h)));
        Assert.Equal(SparseData.Weights(raw), SparseData.Weights(encoded));
        Assert.Equal(((AffineModel)raw).Bias.ToArray(), ((AffineModel)encoded).Bias.ToArray());
    }
}
