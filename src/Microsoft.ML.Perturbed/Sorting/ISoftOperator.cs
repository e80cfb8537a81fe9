namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// A differentiable operator on row-major single-precision batches: soft ranks, sorts or quantile normalization,
/// whichever smoothing produced it (see <see cref="SoftRanking"/>).
/// </summary>
public interface ISoftOperator
{
    /// <summary>Length of an input row.</summary>
    int Dimension { get; }

    /// <summary>Length of an output row.</summary>
    int OutputDimension { get; }

    /// <summary>Computes the operator on every row of <paramref name="values"/> (<c>[batch × Dimension]</c>).</summary>
    void Forward(ReadOnlySpan<float> values, Span<float> result);

    /// <summary>Computes the operator and the vector-Jacobian product Jᵀg of every row.</summary>
    void ForwardVjp(ReadOnlySpan<float> values, ReadOnlySpan<float> cotangent, Span<float> result, Span<float> vjp);
}
