using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// The plain solver y*(θ) as a layer. It is piecewise constant, so its true derivative is zero almost everywhere: VJP
/// and JVP are zero. Use it for prediction, or as the baseline the differentiable layers are compared with.
/// </summary>
public class SolverLayer : RowLayer
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

/// <summary>
/// Blackbox differentiation of a solver (Vlastelica et al. 2020, "Differentiation of blackbox combinatorial solvers"):
/// forward y*(θ); backward the gradient of the piecewise-linear interpolation of the loss, which for our maximizing
/// oracles is (y*(θ) − y_λ)/λ with y_λ = y*(θ − λg) — one extra solve per row. (The paper's minimization form
/// w′ = w + λg, −(y(w) − y(w′))/λ becomes this with w = −θ.) λ is in the units of θ: put a
/// <see cref="SphereProjection"/> in front (see <see cref="DifferentiableLayers.Blackbox"/>) so that it is relative.
/// </summary>
public sealed class BlackboxLayer : SolverLayer
{
    /// <summary>Smallest accepted λ (as for ε): below it (y* − y_λ)/λ leaves single precision for solutions of ordinary size.</summary>
    public const double MinLambda = 1e-30;

    /// <summary>Largest accepted λ.</summary>
    public const double MaxLambda = 1e30;

    /// <summary>Creates the layer; <paramref name="lambda"/> in [<see cref="MinLambda"/>, <see cref="MaxLambda"/>] is the interpolation step.</summary>
    public BlackboxLayer(Oracle oracle, double lambda) : base(oracle)
    {
        CheckLambda(lambda, nameof(lambda));
        if (oracle.OutputDimension != oracle.Dimension)
        {
            throw new ArgumentException($"Blackbox interpolation θ − λg needs solutions in the space of the scores; {oracle.Name} maps {oracle.Dimension} scores to {oracle.OutputDimension} values.", nameof(oracle));
        }
        Lambda = lambda;
    }

    /// <summary>The interpolation step λ.</summary>
    public double Lambda { get; }

    /// <summary>Refuses a λ outside [<see cref="MinLambda"/>, <see cref="MaxLambda"/>], naming <paramref name="paramName"/> and the value.</summary>
    internal static void CheckLambda(double lambda, string paramName)
    {
        if (!(lambda >= MinLambda && lambda <= MaxLambda))
        {
            throw new ArgumentOutOfRangeException(paramName, lambda, $"The blackbox step λ ('{paramName}') must be in [{MinLambda}, {MaxLambda}], got {lambda}.");
        }
    }

    /// <inheritdoc/>
    public override string Name => $"Blackbox({Oracle.Name}, λ={Lambda})";

    /// <inheritdoc/>
    public override bool HasJvp => false;

    /// <inheritdoc/>
    protected override int ScratchLength => Dimension + OutputDimension;

    /// <inheritdoc/>
    protected override void VjpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw, Span<float> scratch)
    {
        int d = Dimension;
        Span<float> shifted = scratch[..d], interpolated = scratch.Slice(d, OutputDimension);
        Solve(Oracle, theta, solution, row);
        // Maximizer: y_λ = y*(θ − λg), VJP (y*(θ) − y_λ)/λ. Minimizer (the paper's form, costs w): y_λ = y*(w + λg),
        // VJP −(y*(w) − y_λ)/λ. One sign s = ±1 covers both.
        int s = Oracle.Sign;
        for (int i = 0; i < d; i++)
        {
            double v = theta[i] - s * Lambda * cotangent[i];
            shifted[i] = (float)v;
            if (!float.IsFinite(shifted[i])) throw new ArgumentException($"θ − λg overflows single precision at row {row}, column {i} (λ = {Lambda}).", "cotangent");
        }
        Solve(Oracle, shifted, interpolated, row);
        for (int i = 0; i < d; i++)
        {
            vjp[i] = (float)(s * (solution[i] - (double)interpolated[i]) / Lambda);
            if (!float.IsFinite(vjp[i]))
            {
                throw new ArgumentException($"The blackbox VJP (y* − y_λ)/λ overflows single precision at row {row}, column {i} (λ = {Lambda}, " +
                    $"y* − y_λ = {solution[i] - (double)interpolated[i]}); use a larger λ.", "cotangent");
            }
        }
    }
}

/// <summary>
/// Identity backward of a solver (Sahoo et al. 2023, "Backpropagation through combinatorial algorithms: identity with
/// projection works"): forward y*(θ); backward pretends the solver is the identity. For a minimizer of costs the
/// surrogate Jacobian is −I; for our maximizing oracles it is +I, so the VJP is g and the JVP t. Combine it with
/// projections (<see cref="DifferentiableLayers.IdentityWithProjection"/>) — their Jacobians carry the gradient.
/// </summary>
public sealed class IdentityGradientLayer : SolverLayer
{
    /// <summary>Creates the layer; the oracle must map scores to their own space (d′ = d).</summary>
    public IdentityGradientLayer(Oracle oracle) : base(oracle)
    {
        if (oracle.OutputDimension != oracle.Dimension)
        {
            throw new ArgumentException($"The identity backward needs solutions in the space of the scores; {oracle.Name} maps {oracle.Dimension} scores to {oracle.OutputDimension} values.", nameof(oracle));
        }
    }

    /// <inheritdoc/>
    public override string Name => $"IdentityGradient({Oracle.Name})";

    /// <inheritdoc/>
    protected override void VjpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw, Span<float> scratch)
    {
        Solve(Oracle, theta, solution, row);
        // +I for a maximizer, −I for a minimizer (Sahoo et al.'s form).
        if (Oracle.Sign > 0) cotangent.CopyTo(vjp);
        else for (int i = 0; i < vjp.Length; i++) vjp[i] = -cotangent[i];
    }

    /// <inheritdoc/>
    protected override void JvpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw, Span<float> scratch)
    {
        Solve(Oracle, theta, solution, row);
        if (Oracle.Sign > 0) tangent.CopyTo(jvp);
        else for (int i = 0; i < jvp.Length; i++) jvp[i] = -tangent[i];
    }
}
