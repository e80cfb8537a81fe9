using Microsoft.ML.Perturbed.Sorting;
using static TorchSharp.torch;

namespace Microsoft.ML.Perturbed.TorchSharp;

/// <summary>
/// Soft ranks and soft sort by entropic optimal transport on a TorchSharp device (Cuturi, Teboul, Vert 2019), with the
/// core <see cref="SinkhornSorting"/>'s conventions (standardize + logistic squash, n targets on a regular grid of
/// [0, 1], uniform weights, log-domain updates of f then g). Written with differentiable torch operations, so autograd
/// gives the unrolled gradient; a fixed iteration count keeps the batch on the device without a convergence check.
/// </summary>
public static class TorchSinkhorn
{
    /// <summary>
    /// Soft ranks (ascending: the smallest value gets about 1) of each row of <paramref name="values"/> [batch, n]:
    /// n·(P·cumsum(b)) ⊘ (P1), each row read with its own mass. A fixed iteration count ends on the column update, so
    /// the rows' masses are a only at convergence; read this way the ranks lie in [1, n] after any number of
    /// iterations, as the core's <see cref="SinkhornSorting"/> reads a row stopped at its cap.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> is not [batch ≥ 1, n ≥ 1] (the message gives its shape).</exception>
    public static Tensor Ranks(Tensor values, double epsilon = 0.01, int iterations = 100, SortDirection direction = SortDirection.Ascending)
    {
        (Tensor plan, Tensor _, long n) = Plan(values, epsilon, iterations, direction);
        Tensor cumulative = arange(1, n + 1, values.dtype, values.device) / n;      // cumsum(b), b uniform
        Tensor mass = plan.sum(-1);                                                 // (P1)ᵢ
        return plan.matmul(cumulative.unsqueeze(-1)).squeeze(-1) / mass * n;       // n·(P·cumsum(b)) ⊘ P1
    }

    /// <summary>
    /// Soft sort of each row of <paramref name="values"/> [batch, n] (ascending by default): b⁻¹ ⊙ Pᵀx, whose columns the
    /// last update made exact, so each value is a barycentre of the row and lies in [min, max].
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> is not [batch ≥ 1, n ≥ 1] (the message gives its shape).</exception>
    public static Tensor Sort(Tensor values, double epsilon = 0.01, int iterations = 100, SortDirection direction = SortDirection.Ascending)
    {
        (Tensor plan, Tensor signed, long n) = Plan(values, epsilon, iterations, direction);
        Tensor sorted = plan.transpose(1, 2).matmul(signed.unsqueeze(-1)).squeeze(-1) * n;   // b⁻¹ ⊙ Pᵀx
        return direction == SortDirection.Ascending ? sorted : -sorted;
    }

    private static (Tensor Plan, Tensor Signed, long N) Plan(Tensor values, double epsilon, int iterations, SortDirection direction)
    {
        ArgumentNullException.ThrowIfNull(values);
        LibTorchRuntime.EnsureLoaded();
        if (values.dim() != 2 || values.shape[0] < 1 || values.shape[1] < 1)
        {
            throw new ArgumentException($"Expected 'values' of shape [batch, n] with batch ≥ 1 and n ≥ 1, got [{string.Join(", ", values.shape)}].", nameof(values));
        }
        if (!(epsilon > 0) || !double.IsFinite(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be a finite number greater than 0.");
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "At least one iteration is needed.");
        long n = values.shape[1];
        Tensor x = direction == SortDirection.Ascending ? values : -values;
        Tensor mean = x.mean([1], keepdim: true);
        Tensor std = ((x - mean).pow(2).mean([1], keepdim: true)).sqrt() + 1e-12;
        Tensor squashed = ((x - mean) / std).sigmoid();                                       // x̃ ∈ (0, 1)
        Tensor targets = n == 1 ? full(new long[] { 1 }, 0.5, values.dtype, values.device) : linspace(0, 1, n, values.dtype, values.device);
        Tensor cost = (targets.view(1, 1, n) - squashed.unsqueeze(-1)).pow(2);              // C[b, i, j] = (yⱼ − x̃ᵢ)²
        double logWeight = -Math.Log(n);                                                      // log a = log b = −log n
        Tensor f = zeros_like(squashed), g = zeros_like(squashed);
        for (int t = 0; t < iterations; t++)
        {
            f = -epsilon * (logWeight + (g.unsqueeze(1) - cost) / epsilon).logsumexp(2);
            g = -epsilon * (logWeight + (f.unsqueeze(2) - cost) / epsilon).logsumexp(1);
        }
        Tensor plan = (2 * logWeight + (f.unsqueeze(2) + g.unsqueeze(1) - cost) / epsilon).exp();
        return (plan, x, n);
    }
}
