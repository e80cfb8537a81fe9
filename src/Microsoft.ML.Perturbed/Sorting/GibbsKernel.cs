using System.Numerics.Tensors;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// The elementwise pieces of entropic transport shared by the Sinkhorn solvers and their reverse mode: the exponent
/// (g − C)/ε + log b of a Gibbs kernel row, its exponential, and a stable log-sum-exp. Scalar loops below
/// <see cref="VectorMinimum"/> entries, vector ones above (the two round alike only up to the order of operations, so
/// the switch depends on the length alone).
/// </summary>
internal static class GibbsKernel
{
    /// <summary>Below this length the scalar loops beat the vector ones (per-call overhead; measured at n = m = 10).</summary>
    public const int VectorMinimum = 32;

    /// <summary>
    /// destination = (potential − cost)/ε + logWeights, elementwise (logWeights empty: none): the exponent of a Gibbs
    /// kernel.
    /// </summary>
    public static void Exponent(ReadOnlySpan<double> potential, ReadOnlySpan<double> cost, double inverseEps, ReadOnlySpan<double> logWeights, Span<double> destination)
    {
        if (destination.Length < VectorMinimum)
        {
            for (int j = 0; j < destination.Length; j++) destination[j] = (potential[j] - cost[j]) * inverseEps + (logWeights.IsEmpty ? 0 : logWeights[j]);
            return;
        }
        TensorPrimitives.Subtract(potential, cost, destination);
        if (logWeights.IsEmpty) TensorPrimitives.Multiply(destination, inverseEps, destination);
        else TensorPrimitives.MultiplyAdd(destination, inverseEps, logWeights, destination);
    }

    /// <summary>destination = exp((potential − cost)/ε + logWeights + shift): a row of the kernel, the plan or a softmax.</summary>
    public static void Row(ReadOnlySpan<double> potential, ReadOnlySpan<double> cost, double inverseEps, ReadOnlySpan<double> logWeights, double shift, Span<double> destination)
    {
        Exponent(potential, cost, inverseEps, logWeights, destination);
        if (destination.Length < VectorMinimum)
        {
            for (int j = 0; j < destination.Length; j++) destination[j] = Math.Exp(destination[j] + shift);
            return;
        }
        TensorPrimitives.Add(destination, shift, destination);
        SpanMath.Exp(destination, destination);
    }

    /// <summary>log Σ exp(vᵢ), stably; overwrites <paramref name="values"/> with exp(vᵢ − max).</summary>
    public static double LogSumExp(Span<double> values)
    {
        if (values.Length < VectorMinimum)
        {
            double top = double.NegativeInfinity, total = 0;
            foreach (double v in values) top = Math.Max(top, v);
            for (int j = 0; j < values.Length; j++) total += values[j] = Math.Exp(values[j] - top);
            return top + Math.Log(total);
        }
        double max = TensorPrimitives.Max(values);
        TensorPrimitives.Subtract(values, max, values);
        SpanMath.Exp(values, values);
        return max + Math.Log(SpanMath.Sum(values));
    }
}
