using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed;

/// <summary>
/// The SPO+ loss (Elmachtoub &amp; Grigas 2022, "Smart 'Predict, then Optimize'"; the main loss of PyEPO) for data that
/// carry the true objective of each instance. In its paper's minimization form, with predicted costs ĉ and true costs c,
/// ℓ = −min_w (2ĉ − c)ᵀw + 2ĉᵀw*(c) − z*(c) with subgradient 2(w*(c) − w*(2ĉ − c)). Our oracles maximize scores, so
/// with θ = −ĉ and true scores s = −c (the targets of this loss) it reads
/// ℓ(θ; s) = ⟨2θ − s, y*(2θ − s)⟩ − 2⟨θ, y*(s)⟩ + ⟨s, y*(s)⟩ ≥ 0 with gradient 2(y*(2θ − s) − y*(s)): two solves per
/// row. ℓ = 0 at θ = s; it is convex in θ and upper-bounds the regret ⟨s, y*(s) − y*(θ)⟩ up to a factor (their Prop. 3).
/// </summary>
public sealed class SpoPlusLoss : RowwiseLoss
{
    /// <summary>Creates the loss over <paramref name="oracle"/> (d′ = d).</summary>
    public SpoPlusLoss(Oracle oracle) : base((oracle ?? throw new ArgumentNullException(nameof(oracle))).Dimension, oracle.Dimension)
    {
        if (oracle.OutputDimension != oracle.Dimension)
        {
            throw new ArgumentException($"SPO+ needs solutions in the space of the scores; {oracle.Name} maps {oracle.Dimension} scores to {oracle.OutputDimension} values.", nameof(oracle));
        }
        Oracle = oracle;
    }

    /// <summary>The solver.</summary>
    public Oracle Oracle { get; }

    /// <inheritdoc/>
    public override string Name => $"SPO+({Oracle.Name})";

    /// <inheritdoc/>
    protected override int ScratchLength => 3 * Dimension;

    /// <inheritdoc/>
    protected override double EvaluateRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> gradient, ulong draw, Span<float> scratch)
    {
        int d = Dimension;
        Span<float> ys = scratch[..d], u = scratch.Slice(d, d), yu = scratch.Slice(2 * d, d);
        SolverLayer.Solve(Oracle, target, ys, row);
        for (int i = 0; i < d; i++)
        {
            u[i] = (float)(2.0 * theta[i] - target[i]);
            if (!float.IsFinite(u[i])) throw new ArgumentException($"2θ − s overflows single precision at row {row}, column {i}.", "theta");
        }
        SolverLayer.Solve(Oracle, u, yu, row);
        // The maximization form; a cost head (argmin, the paper's own form with ĉ = θ and c = s) is its mirror: s = −1.
        int sign = Oracle.Sign;
        double value = 0;
        for (int i = 0; i < d; i++)
        {
            gradient[i] = 2 * sign * (yu[i] - ys[i]);
            value += (double)u[i] * yu[i] - 2.0 * theta[i] * ys[i] + (double)target[i] * ys[i];
        }
        return sign * value;
    }
}
