using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// Identity backward of a solver (Sahoo et al. 2023, "Backpropagation through combinatorial algorithms: identity with
/// projection works"): forward y*(θ); backward pretends the solver is the identity. For a minimizer of costs the
/// surrogate Jacobian is −I; for our maximizing oracles it is +I, so the VJP is g and the JVP t. Combine it with
/// projections (<see cref="DifferentiableLayers.IdentityWithProjection"/>) — their Jacobians carry the gradient.
/// </summary>
internal sealed class IdentityGradientLayer : SolverLayer
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
