using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// Blackbox differentiation of a solver (Vlastelica et al. 2020, "Differentiation of blackbox combinatorial solvers"):
/// forward y*(θ); backward the gradient of the piecewise-linear interpolation of the loss, which for our maximizing
/// oracles is (y*(θ) − y_λ)/λ with y_λ = y*(θ − λg) — one extra solve per row. (The paper's minimization form
/// w′ = w + λg, −(y(w) − y(w′))/λ becomes this with w = −θ.) λ is in the units of θ: put a
/// <see cref="SphereProjection"/> in front (see <see cref="DifferentiableLayers.Blackbox"/>) so that it is relative.
/// </summary>
internal sealed class BlackboxLayer : SolverLayer
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
