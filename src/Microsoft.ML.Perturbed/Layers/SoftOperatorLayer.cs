using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// A soft rank, sort or quantile-normalization operator (<see cref="SoftRanking"/>, <see cref="SinkhornSorting"/>,
/// <see cref="SoftQuantileNormalization"/>) as a layer: deterministic operators ignore the draw; the permutahedron
/// projections also give their exact JVP.
/// </summary>
public sealed class SoftOperatorLayer : Layer
{
    /// <summary>Wraps <paramref name="soft"/>.</summary>
    public SoftOperatorLayer(ISoftOperator soft) : base((soft ?? throw new ArgumentNullException(nameof(soft))).Dimension, soft.OutputDimension)
    {
        Operator = soft;
    }

    /// <summary>The operator.</summary>
    public ISoftOperator Operator { get; }

    /// <inheritdoc/>
    public override string Name => Operator.GetType().Name + $"(d={Dimension})";

    /// <inheritdoc/>
    public override bool HasJvp => Operator is PermutahedronProjection;

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> theta, Span<float> solution, ulong draw = 0)
    {
        Guard.Rows(solution.Length, CheckInput(theta), OutputDimension, nameof(solution));
        Operator.Forward(theta, solution);
    }

    /// <inheritdoc/>
    public override void ForwardVjp(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
    {
        CheckVjp(theta, cotangent, solution, vjp);
        Operator.ForwardVjp(theta, cotangent, solution, vjp);
    }

    /// <inheritdoc/>
    public override void ForwardJvp(ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw = 0)
    {
        if (Operator is not PermutahedronProjection projection)
        {
            base.ForwardJvp(theta, tangent, solution, jvp, draw);
            return;
        }
        CheckJvp(theta, tangent, solution, jvp);
        projection.ForwardJvp(theta, tangent, solution, jvp);
    }
}
