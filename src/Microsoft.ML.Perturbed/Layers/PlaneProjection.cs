namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// P_plane(θ) = θ − mean(θ)·1 (Sahoo et al. 2023, §3.4): removes the direction that a head whose solutions all have the
/// same sum (argmax, top-k, ranking) cannot see. Its Jacobian I − 11ᵀ/d is symmetric, so VJP and JVP are the same map.
/// </summary>
internal sealed class PlaneProjection(int dimension) : RowLayer(dimension, dimension)
{
    /// <inheritdoc/>
    public override string Name => $"PlaneProjection(d={Dimension})";

    /// <inheritdoc/>
    public override bool HasJvp => true;

    /// <inheritdoc/>
    protected override void ForwardRow(int row, ReadOnlySpan<float> theta, Span<float> solution, ulong draw, Span<float> scratch) => Center(theta, solution);

    /// <inheritdoc/>
    protected override void VjpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw, Span<float> scratch)
    {
        Center(theta, solution);
        Center(cotangent, vjp);
    }

    /// <inheritdoc/>
    protected override void JvpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw, Span<float> scratch)
    {
        Center(theta, solution);
        Center(tangent, jvp);
    }

    /// <summary>x − mean(x), the mean accumulated in double (exact enough at every float magnitude).</summary>
    internal static void Center(ReadOnlySpan<float> x, Span<float> destination)
    {
        double mean = 0;
        for (int i = 0; i < x.Length; i++) mean += x[i];
        mean /= x.Length;
        for (int i = 0; i < x.Length; i++) destination[i] = (float)(x[i] - mean);
    }
}
