using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Perturbed.TorchSharp.Tests;

public class PerturbedAutogradTests
{
    private static TorchPerturbedOptimizer Optimizer(DeviceKernelKind head, int d, int m = 30, NoiseDistribution? noise = null, int chunk = 0) =>
        new(head, d, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = m, Noise = noise ?? NoiseDistribution.Normal, Seed = 2 }, TestDevice.Current, k: 2)
        {
            SamplesPerChunk = chunk,
        };

    [Theory]
    [InlineData(0)]    // one chunk: backward uses the kept samples
    [InlineData(7)]    // several chunks: backward solves the same samples again
    public void Perturbed_layer_backward_is_the_vjp_of_the_same_samples(int samplesPerChunk)
    {
        var optimizer = Optimizer(DeviceKernelKind.Ranking, 5, chunk: samplesPerChunk);
        float[] values = [0.3f, -0.2f, 0.8f, 0.1f, 0.5f, 1f, 0f, -1f, 2f, 0.4f];
        float[] g = [1f, -1f, 0.5f, 0f, 2f, -0.5f, 0.3f, 0.2f, -1f, 1f];
        Tensor theta = tensor(values, [2, 5]).to(TestDevice.Current).requires_grad_(true);
        Tensor y = PerturbedAutograd.Perturbed(optimizer, theta, draw: 4);
        (y * tensor(g, [2, 5]).to(TestDevice.Current)).sum().backward();
        var expectedY = new float[10];
        var expectedVjp = new float[10];
        optimizer.ForwardVjp(values, g, expectedY, expectedVjp, draw: 4);
        Assert.Equal(expectedY, y.detach().cpu().data<float>().ToArray());
        float[] gradient = theta.grad!.cpu().data<float>().ToArray();
        for (int i = 0; i < 10; i++) Assert.Equal(expectedVjp[i], gradient[i], 5);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void Fenchel_young_loss_gradient_is_the_perturbed_solution_minus_the_target_over_the_batch(int samplesPerChunk)
    {
        var optimizer = Optimizer(DeviceKernelKind.TopK, 4, chunk: samplesPerChunk);
        float[] values = [0.3f, -0.2f, 0.8f, 0.1f, 1f, 0f, -1f, 2f, 0.2f, 0.1f, 0.4f, 0.3f];
        float[] target = [1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0];
        Tensor theta = tensor(values, [3, 4]).to(TestDevice.Current).requires_grad_(true);
        Tensor loss = PerturbedAutograd.FenchelYoungLoss(optimizer, theta, tensor(target, [3, 4]).to(TestDevice.Current), draw: 9);
        loss.backward();
        var yHat = new float[12];
        optimizer.Forward(values, yHat, draw: 9);
        float[] gradient = theta.grad!.cpu().data<float>().ToArray();
        for (int i = 0; i < 12; i++) Assert.Equal((yHat[i] - target[i]) / 3, gradient[i], 6);
        Assert.Equal(0, loss.dim());
        Assert.Contains("'target'", Assert.Throws<ArgumentException>(() => PerturbedAutograd.FenchelYoungLoss(optimizer, theta, zeros(3, 5))).Message);
    }

    [Fact]
    public void A_torchsharp_mlp_learns_separable_classes_through_the_fenchel_young_loss()
    {
        const int n = 300, p = 4, k = 3;
        torch.random.manual_seed(1);
        var rng = new System.Random(1);
        var xs = new float[n * p];
        var labels = new long[n];
        for (int r = 0; r < n; r++)
        {
            labels[r] = r % k;
            for (int j = 0; j < p; j++) xs[r * p + j] = (float)(rng.NextDouble() + (j == labels[r] ? 2 : 0));
        }
        Device device = TestDevice.Current;
        Tensor x = tensor(xs, [n, p]).to(device), y = tensor(labels).to(device), onehot = nn.functional.one_hot(y, k).to(ScalarType.Float32);
        var model = nn.Sequential(("hidden", nn.Linear(p, 16)), ("relu", nn.ReLU()), ("out", nn.Linear(16, k))).to(device);
        var adam = optim.Adam(model.parameters(), lr: 0.05);
        var optimizer = Optimizer(DeviceKernelKind.Argmax, k, m: 10, NoiseDistribution.Gumbel);
        for (int step = 0; step < 150; step++)
        {
            adam.zero_grad();
            Tensor loss = PerturbedAutograd.FenchelYoungLoss(optimizer, model.forward(x), onehot, (ulong)step);
            loss.backward();
            adam.step();
        }
        using var noGrad = no_grad();
        double accuracy = (model.forward(x).argmax(1) == y).to(ScalarType.Float32).mean().item<float>();
        Assert.True(accuracy > 0.95, $"accuracy {accuracy:F3}");
    }

    public static TheoryData<string> HostLayers() => ["Blackbox", "Identity", "SoftRank", "PerturbedUserOracle"];

    private static Layers.Layer HostLayer(string name) => name switch
    {
        "Blackbox" => DifferentiableLayers.Blackbox(new RankingOracle(5), 0.5, ScoreProjection.PlaneThenSphere),
        "Identity" => DifferentiableLayers.IdentityWithProjection(new TopKOracle(5, 2), margin: 0.1, seed: 3),
        "SoftRank" => new Sorting.SoftRank(5, 0.3),
        "PerturbedUserOracle" => new PerturbedOptimizer(Oracle.Create(5, 5, (th, y) => { for (int i = 0; i < 5; i++) y[i] = th[i] > 0 ? 1 : 0; }, "Positive"),
            new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = 20, Seed = 1 }),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown test layer."),
    };

    [Theory]
    [MemberData(nameof(HostLayers))]
    public void Any_core_layer_inside_a_torchsharp_graph_back_propagates_its_own_vjp(string name)
    {
        Layers.Layer layer = HostLayer(name);
        float[] values = [0.3f, -0.2f, 0.8f, 0.1f, 0.5f, 1f, 0f, -1f, 2f, 0.4f];
        float[] g = [1f, -1f, 0.5f, 0f, 2f, -0.5f, 0.3f, 0.2f, -1f, 1f];
        Tensor theta = tensor(values, [2, 5]).to(TestDevice.Current).requires_grad_(true);
        Tensor y = PerturbedAutograd.Layer(layer, theta * 1, draw: 6);   // in the middle of a graph
        (y * tensor(g, [2, 5]).to(TestDevice.Current)).sum().backward();
        var expectedY = new float[10];
        var expectedVjp = new float[10];
        layer.ForwardVjp(values, g, expectedY, expectedVjp, draw: 6);
        Assert.Equal(expectedY, y.detach().cpu().data<float>().ToArray());
        Assert.Equal(expectedVjp, theta.grad!.cpu().data<float>().ToArray());
        Assert.Equal("theta", Assert.Throws<ArgumentException>(() => PerturbedAutograd.Layer(layer, zeros(2, 4))).ParamName);
    }

    [Fact]
    public void Any_core_loss_is_a_differentiable_torchsharp_scalar()
    {
        var loss = new SpoPlusLoss(new RankingOracle(4));
        float[] values = [0.3f, -0.2f, 0.8f, 0.1f, 1f, 0f, -1f, 2f];
        float[] truth = [1f, 2f, 0f, -1f, 0.5f, 0.2f, 0.1f, 3f];
        Tensor theta = tensor(values, [2, 4]).to(TestDevice.Current).requires_grad_(true);
        Tensor value = PerturbedAutograd.Loss(loss, theta, tensor(truth, [2, 4]).to(TestDevice.Current));
        (3 * value).backward();
        var gradient = new float[8];
        double mean = loss.Evaluate(values, truth, new float[2], gradient);
        Assert.Equal(mean, value.item<float>(), 5);
        float[] grad = theta.grad!.cpu().data<float>().ToArray();
        for (int i = 0; i < 8; i++) Assert.Equal(3 * gradient[i] / 2, grad[i], 5);
        Assert.Equal("target", Assert.Throws<ArgumentException>(() => PerturbedAutograd.Loss(loss, theta, zeros(2, 3))).ParamName);
    }
}
