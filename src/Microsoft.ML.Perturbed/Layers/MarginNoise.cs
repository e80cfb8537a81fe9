namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// Margin noise (Sahoo et al. 2023, §3.5): θ + ξ with ξᵢ drawn uniformly from {−α/2, +α/2}, independently per row,
/// coordinate and draw; put it before the projections. The Jacobian is the identity. Seeded like the perturbed
/// optimizer: (seed, draw, row) fixes ξ, whatever the thread count.
/// </summary>
internal sealed class MarginNoise : RowLayer
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
