using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// The plain solver y*(θ) as a layer. It is piecewise constant, so its true derivative is zero almost everywhere: VJP
/// and JVP are zero. Use it for prediction, or as the baseline the differentiable layers are compared with.
/// </summary>
internal class SolverLayer : RowLayer
{
    /// <summary>Creates the layer over <paramref name="oracle"/>.</summary>
    public SolverLayer(Oracle oracle) : base(NotNull(oracle).Dimension, oracle.OutputDimension)
    {
        Oracle = oracle;
    }

    /// <summary>The solver.</summary>
    public Oracle Oracle { get; }

    /// <inheritdoc/>
    public override string Name => $"Solver({Oracle.Name})";

    /// <inheritdoc/>
    public override bool HasJvp => true;

    /// <inheritdoc/>
    protected override void ForwardRow(int row, ReadOnlySpan<float> theta, Span<float> solution, ulong draw, Span<float> scratch)
        => Solve(Oracle, theta, solution, row);

    /// <inheritdoc/>
    protected override void VjpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw, Span<float> scratch)
    {
        Solve(Oracle, theta, solution, row);
        vjp.Clear();
    }

    /// <inheritdoc/>
    protected override void JvpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw, Span<float> scratch)
    {
        Solve(Oracle, theta, solution, row);
        jvp.Clear();
    }

    /// <summary>Solves one row and checks that the solver wrote finite values (a user oracle's NaN is named, not passed on).</summary>
    internal static void Solve(Oracle oracle, ReadOnlySpan<float> theta, Span<float> solution, int row)
    {
        oracle.SolveRow(theta, solution);
        for (int i = 0; i < solution.Length; i++)
        {
            if (!float.IsFinite(solution[i]))
            {
                throw new InvalidOperationException($"Oracle {oracle.Name} wrote {solution[i]} at row {row}, column {i}; a solution must be finite.");
            }
        }
    }

    private protected static Oracle NotNull(Oracle oracle) => oracle ?? throw new ArgumentNullException(nameof(oracle));
}
