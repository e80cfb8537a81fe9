namespace Microsoft.ML.Perturbed.Layers;

/// <summary>The identity map θ → θ, so that "a loss of the scores themselves" is a loss of a layer like any other.</summary>
internal sealed class ScoresLayer(int dimension) : RowLayer(dimension, dimension)
{
    /// <inheritdoc/>
    public override string Name => $"Scores(d={Dimension})";

    /// <inheritdoc/>
    public override bool HasJvp => true;

    /// <inheritdoc/>
    protected override void ForwardRow(int row, ReadOnlySpan<float> theta, Span<float> solution, ulong draw, Span<float> scratch) => theta.CopyTo(solution);

    /// <inheritdoc/>
    protected override void VjpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw, Span<float> scratch)
    {
        theta.CopyTo(solution);
        cotangent.CopyTo(vjp);
    }

    /// <inheritdoc/>
    protected override void JvpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw, Span<float> scratch)
    {
        theta.CopyTo(solution);
        tangent.CopyTo(jvp);
    }
}
