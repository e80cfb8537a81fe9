using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Perturbed.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.Perturbed.TorchSharp.Tests;

/// <summary>
/// Every public TorchSharp entry that takes θ, a cotangent or a gradient checks its shape up front and names the
/// argument, the expected and the actual shape (issue "right or refused", item 13) — never TorchSharp's
/// "mismatched total size … 10 vs. 4".
/// </summary>
public class TorchShapeRefusalTests
{
    private static TorchPerturbedOptimizer Optimizer() =>
        new(DeviceKernelKind.Ranking, 5, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = 4, Seed = 1 }, TestDevice.Current);

    private static void AssertNamed(Action call, string argument, params string[] shapes)
    {
        var e = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(argument, e.ParamName);
        Assert.Contains($"'{argument}'", e.Message);
        foreach (string shape in shapes) Assert.Contains(shape, e.Message);
        Assert.DoesNotContain("mismatched total size", e.Message);
    }

    [Fact]
    public void A_short_cotangent_is_named_with_the_expected_and_actual_sizes()
    {
        TorchPerturbedOptimizer optimizer = Optimizer();
        float[] theta = new float[10];   // [2 × 5]
        AssertNamed(() => optimizer.ForwardVjp(theta, new float[4], new float[10], new float[10]), "cotangent", "10 values", "[2 × 5]", "got 4");
        AssertNamed(() => optimizer.ForwardVjp(theta, new float[10], new float[9], new float[10]), "solution", "got 9");
        AssertNamed(() => optimizer.ForwardVjp(theta, new float[10], new float[10], new float[11]), "vjp", "got 11");
        AssertNamed(() => optimizer.Forward(theta, new float[5]), "solution", "got 5");
        AssertNamed(() => optimizer.Forward(new float[7], new float[7]), "theta", "[batch × 5]", "got 7");
        // Tensors: the same names with the shapes.
        AssertNamed(() => optimizer.ForwardVjp(zeros(2, 5), zeros(1, 4)), "cotangent", "[2, 5]", "[1, 4]");
        AssertNamed(() => optimizer.Forward(zeros(2, 4)), "theta", "[batch, 5]", "[2, 4]");
    }

    [Fact]
    public void Autograd_functions_name_theta_the_target_and_the_weights()
    {
        TorchPerturbedOptimizer optimizer = Optimizer();
        AssertNamed(() => PerturbedAutograd.Perturbed(optimizer, zeros(2, 4)), "theta", "[2, 4]");
        AssertNamed(() => PerturbedAutograd.FenchelYoungLoss(optimizer, zeros(2, 5), zeros(2, 4)), "target", "[2, 5]", "[2, 4]");
        var layer = new SoftRank(5, 1.0);
        AssertNamed(() => PerturbedAutograd.Layer(layer, zeros(2, 4)), "theta", "[batch, 5]", "[2, 4]");
        var loss = new SpoPlusLoss(new RankingOracle(5));
        AssertNamed(() => PerturbedAutograd.Loss(loss, zeros(2, 5), zeros(3, 5)), "target", "[2, 5]", "[3, 5]");
        AssertNamed(() => PerturbedAutograd.Loss(loss, zeros(2, 5), zeros(2, 5), weights: [1, 1, 1]), "weights", "Expected 2", "got 3");
        // A cotangent of the wrong shape given to backward is refused by libtorch before our backward runs; the right
        // shape goes through.
        Tensor theta = zeros(2, 5).requires_grad_(true);
        PerturbedAutograd.Layer(layer, theta).backward([ones(2, 5)]);
        Assert.Equal([2L, 5L], theta.grad!.shape);
    }

    [Fact]
    public void Device_sinkhorn_names_values_of_the_wrong_shape()
    {
        AssertNamed(() => TorchSinkhorn.Ranks(zeros(3)), "values", "[batch, n]", "[3]");
        AssertNamed(() => TorchSinkhorn.Sort(zeros(0, 3)), "values", "[0, 3]");
        AssertNamed(() => TorchSinkhorn.Ranks(zeros(2, 0)), "values", "[2, 0]");
    }

    [Fact]
    public void A_training_session_names_features_targets_and_weights_that_do_not_fit()
    {
        var head = new ArgmaxOracle(3);
        StructuredLoss loss = StructuredLoss.Create(head, StructuredLossKind.FenchelYoung, new StructuredLossOptions());
        using ITrainingSession session = ((IStructuredTrainingBackend)new TorchTrainingBackend(TestDevice.Current)).Start(head, loss, featureCount: 4, new StructuredTrainerOptions());
        AssertNamed(() => session.Step(new float[10], new float[6], default, 0), "features", "[batch × 4]", "got 10");
        AssertNamed(() => session.Step(new float[8], new float[3], default, 0), "targets", "[2 × 3]", "got 3");
        AssertNamed(() => session.Step(new float[8], new float[6], new float[3], 0), "weights", "(2)", "got 3");
        AssertNamed(() => session.Loss(new float[8], new float[7], 0), "targets", "got 7");
        Assert.True(double.IsFinite(session.Step(new float[8], new float[] { 1, 0, 0, 0, 1, 0 }, default, 0)));
    }
}
