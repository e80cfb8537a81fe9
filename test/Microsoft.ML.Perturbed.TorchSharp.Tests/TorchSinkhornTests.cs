using Microsoft.ML.Perturbed.Sorting;
using static TorchSharp.torch;

namespace Microsoft.ML.Perturbed.TorchSharp.Tests;

public class TorchSinkhornTests
{
    [Theory]
    [InlineData(SinkhornOutput.Rank, SortDirection.Ascending)]
    [InlineData(SinkhornOutput.Rank, SortDirection.Descending)]
    [InlineData(SinkhornOutput.Sort, SortDirection.Ascending)]
    public void Device_sinkhorn_matches_the_core_values_and_gradients(SinkhornOutput output, SortDirection direction)
    {
        const int n = 6, iterations = 40;
        const double eps = 0.05;
        double[] row = [0.7, -1.3, 2.2, 0.1, 1.5, -0.4];
        double[] g = [0.3, -1, 0.5, 0.2, -0.4, 1];
        var core = new SinkhornSorting(n, new SinkhornOptions { Output = output, Direction = direction, Epsilon = eps, Tolerance = 0, MaxIterations = iterations });
        var expected = new double[n];
        var expectedVjp = new double[n];
        core.ForwardVjp(row, g, expected, expectedVjp);

        Tensor x = tensor(row, [1, n]).to(TestDevice.Current).requires_grad_(true);   // float64 on the device, to compare with the core's doubles
        Tensor y = output == SinkhornOutput.Rank ? TorchSinkhorn.Ranks(x, eps, iterations, direction) : TorchSinkhorn.Sort(x, eps, iterations, direction);
        (y * tensor(g, [1, n]).to(TestDevice.Current)).sum().backward();
        double[] actual = y.detach().cpu().data<double>().ToArray(), vjp = x.grad!.cpu().data<double>().ToArray();
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(expected[i], actual[i], 8);
            Assert.Equal(expectedVjp[i], vjp[i], 6);
        }
    }

    [Theory]
    [InlineData(1, 0.01)]
    [InlineData(2, 0.01)]
    [InlineData(3, 1e-3)]
    public void Ranks_after_a_few_iterations_stay_in_one_to_n_and_sorts_in_the_rows_range(int iterations, double eps)
    {
        // A fixed count ends on the column update: each row is read with its own mass, so no rank leaves [1, n] (the
        // a⁻¹ read-out gave 5.5 for n = 4 after one iteration).
        var rng = new System.Random(iterations);
        const int batch = 16, n = 4;
        double[] values = Enumerable.Range(0, batch * n).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
        Tensor x = tensor(values, [batch, n]).to(TestDevice.Current);
        double[] ranks = TorchSinkhorn.Ranks(x, eps, iterations).cpu().data<double>().ToArray();
        Assert.All(ranks, r => Assert.InRange(r, 1 - 1e-12, n + 1e-12));
        double[] sorted = TorchSinkhorn.Sort(x, eps, iterations).cpu().data<double>().ToArray();
        for (int r = 0; r < batch; r++)
        {
            double lo = values.Skip(r * n).Take(n).Min(), hi = values.Skip(r * n).Take(n).Max();
            for (int j = 0; j < n; j++) Assert.InRange(sorted[r * n + j], lo - 1e-12, hi + 1e-12);
        }
    }

    [Fact]
    public void Ranks_tend_to_hard_ranks_and_bad_arguments_throw()
    {
        Tensor ranks = TorchSinkhorn.Ranks(tensor(new float[] { 0.7f, -1.3f, 2.2f, 0.1f, 1.5f, -0.4f }, [1, 6]).to(TestDevice.Current), 1e-3, 2000);
        float[] expected = [4, 1, 6, 3, 5, 2];
        float[] actual = ranks.cpu().data<float>().ToArray();
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], actual[i], 1);
        Assert.Throws<ArgumentException>(() => TorchSinkhorn.Ranks(zeros(3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchSinkhorn.Ranks(zeros(1, 3), epsilon: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchSinkhorn.Sort(zeros(1, 3), iterations: 0));
    }
}
