namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// P_sphere(θ) = θ/‖θ‖ (Sahoo et al. 2023, §3.5): makes the layers after it invariant to the scale of the scores, so a
/// blackbox step λ or a learning rate means the same thing whatever ‖θ‖ the model drifts to. Jacobian
/// I/‖θ‖ − θθᵀ/‖θ‖³ (symmetric). The norm is accumulated in double, so every finite float row is projected exactly;
/// the zero row maps to zero with a zero Jacobian (the projection is undefined there; zero keeps a zero-initialized
/// model's gradient finite).
/// </summary>
internal sealed class SphereProjection(int dimension) : RowLayer(dimension, dimension)
{
    /// <inheritdoc/>
    public override string Name => $"SphereProjection(d={Dimension})";

    /// <inheritdoc/>
    public override bool HasJvp => true;

    /// <inheritdoc/>
    protected override void ForwardRow(int row, ReadOnlySpan<float> theta, Span<float> solution, ulong draw, Span<float> scratch) => Project(theta, solution);

    /// <inheritdoc/>
    protected override void VjpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw, Span<float> scratch)
    {
        double norm = Project(theta, solution);
        Derivative(theta, cotangent, norm, vjp);
    }

    /// <inheritdoc/>
    protected override void JvpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw, Span<float> scratch)
    {
        double norm = Project(theta, solution);
        Derivative(theta, tangent, norm, jvp);
    }

    private static double Project(ReadOnlySpan<float> theta, Span<float> solution)
    {
        double sq = 0;
        for (int i = 0; i < theta.Length; i++) sq += (double)theta[i] * theta[i];
        double norm = Math.Sqrt(sq);
        if (norm == 0)
        {
            solution.Clear();
            return 0;
        }
        for (int i = 0; i < theta.Length; i++) solution[i] = (float)(theta[i] / norm);
        return norm;
    }

    /// <summary>(I/‖θ‖ − θθᵀ/‖θ‖³) v, computed as (v − u⟨u, v⟩)/‖θ‖ with u = θ/‖θ‖.</summary>
    private static void Derivative(ReadOnlySpan<float> theta, ReadOnlySpan<float> v, double norm, Span<float> destination)
    {
        if (norm == 0)
        {
            destination.Clear();
            return;
        }
        double uv = 0;
        for (int i = 0; i < theta.Length; i++) uv += theta[i] / norm * v[i];
        for (int i = 0; i < theta.Length; i++) destination[i] = (float)((v[i] - theta[i] / norm * uv) / norm);
    }
}
