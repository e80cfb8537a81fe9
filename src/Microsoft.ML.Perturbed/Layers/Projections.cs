namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// P_plane(θ) = θ − mean(θ)·1 (Sahoo et al. 2023, §3.4): removes the direction that a head whose solutions all have the
/// same sum (argmax, top-k, ranking) cannot see. Its Jacobian I − 11ᵀ/d is symmetric, so VJP and JVP are the same map.
/// </summary>
public sealed class PlaneProjection(int dimension) : RowLayer(dimension, dimension)
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

/// <summary>
/// P_sphere(θ) = θ/‖θ‖ (Sahoo et al. 2023, §3.5): makes the layers after it invariant to the scale of the scores, so a
/// blackbox step λ or a learning rate means the same thing whatever ‖θ‖ the model drifts to. Jacobian
/// I/‖θ‖ − θθᵀ/‖θ‖³ (symmetric). The norm is accumulated in double, so every finite float row is projected exactly;
/// the zero row maps to zero with a zero Jacobian (the projection is undefined there; zero keeps a zero-initialized
/// model's gradient finite).
/// </summary>
public sealed class SphereProjection(int dimension) : RowLayer(dimension, dimension)
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

/// <summary>
/// Margin noise (Sahoo et al. 2023, §3.5): θ + ξ with ξᵢ drawn uniformly from {−α/2, +α/2}, independently per row,
/// coordinate and draw; put it before the projections. The Jacobian is the identity. Seeded like the perturbed
/// optimizer: (seed, draw, row) fixes ξ, whatever the thread count.
/// </summary>
public sealed class MarginNoise : RowLayer
{
    /// <summary>Creates margin noise of size <paramref name="alpha"/> ≥ 0 (finite) over rows of <paramref name="dimension"/>.</summary>
    public MarginNoise(int dimension, double alpha, int seed = 0) : base(dimension, dimension)
    {
        if (!(alpha >= 0) || !double.IsFinite(alpha))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The margin α must be a finite number ≥ 0.");
        }
        Alpha = alpha;
        Seed = seed;
    }

    /// <summary>The margin α: ξᵢ = ±α/2.</summary>
    public double Alpha { get; }

    /// <summary>Seed of the noise.</summary>
    public int Seed { get; }

    /// <inheritdoc/>
    public override string Name => $"MarginNoise(α={Alpha}, d={Dimension})";

    /// <inheritdoc/>
    public override bool HasJvp => true;

    /// <inheritdoc/>
    public override bool IsStochastic => Alpha > 0;

    /// <inheritdoc/>
    protected override void ForwardRow(int row, ReadOnlySpan<float> theta, Span<float> solution, ulong draw, Span<float> scratch)
    {
        var stream = Random.PhiloxStream.ForSample(Seed, draw, row, 0);
        float half = (float)(Alpha / 2);
        for (int i = 0; i < theta.Length; i++)
        {
            float v = theta[i] + ((stream.NextUInt32() & 1) == 0 ? -half : half);
            solution[i] = float.IsFinite(v) ? v : throw new ArgumentException($"θ + ξ overflows single precision at row {row}, column {i}.", "theta");
        }
    }

    /// <inheritdoc/>
    protected override void VjpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw, Span<float> scratch)
    {
        ForwardRow(row, theta, solution, draw, scratch);
        cotangent.CopyTo(vjp);
    }

    /// <inheritdoc/>
    protected override void JvpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw, Span<float> scratch)
    {
        ForwardRow(row, theta, solution, draw, scratch);
        tangent.CopyTo(jvp);
    }
}

/// <summary>The identity map θ → θ, so that "a loss of the scores themselves" is a loss of a layer like any other.</summary>
public sealed class ScoresLayer(int dimension) : RowLayer(dimension, dimension)
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
