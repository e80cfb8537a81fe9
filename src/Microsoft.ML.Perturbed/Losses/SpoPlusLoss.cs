using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// The SPO+ loss (Elmachtoub &amp; Grigas 2022, "Smart 'Predict, then Optimize'"; the main loss of PyEPO) for data that
/// carry the true objective of each instance. In its paper's minimization form, with predicted costs ĉ and true costs c,
/// ℓ = −min_w (2ĉ − c)ᵀw + 2ĉᵀw*(c) − z*(c) with subgradient 2(w*(c) − w*(2ĉ − c)). Our oracles maximize scores, so
/// with θ = −ĉ and true scores s = −c (the targets of this loss) it reads
/// ℓ(θ; s) = ⟨2θ − s, y*(2θ − s)⟩ − 2⟨θ, y*(s)⟩ + ⟨s, y*(s)⟩ ≥ 0 with gradient 2(y*(2θ − s) − y*(s)): two solves per
/// row. ℓ = 0 at θ = s; it is convex in θ and upper-bounds the regret ⟨s, y*(s) − y*(θ)⟩ up to a factor (their Prop. 3).
/// </summary>
/// <remarks>
/// y*(s) depends on the target alone, so the encoded form of a target (<see cref="StructuredLoss.EncodeTargets"/>,
/// <see cref="EncodedTargetDimension"/> = 2d) is s followed by y*(s): the training loop encodes in-memory targets once per
/// run, and each evaluation then solves once per row (y*(2θ − s)) instead of twice. The bits are the same either way.
/// </remarks>
internal sealed class SpoPlusLoss : RowwiseLoss
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

    /// <summary>2d: the true costs s, then y*(s).</summary>
    public override int EncodedTargetDimension => 2 * Dimension;

    /// <inheritdoc/>
    protected override int ScratchLength => 3 * Dimension;

    /// <summary>s, then y*(s).</summary>
    protected override void EncodeRow(int row, ReadOnlySpan<float> target, Span<float> encoded)
    {
        int d = Dimension;
        target.CopyTo(encoded);
        SolverLayer.Solve(Oracle, target, encoded.Slice(d, d), row);
    }

    /// <inheritdoc/>
    protected override double EvaluateRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> gradient, ulong draw, Span<float> scratch)
    {
        int d = Dimension;
        Span<float> u = scratch.Slice(d, d), yu = scratch.Slice(2 * d, d);
        ReadOnlySpan<float> s = target[..d], ys = target.Length == 2 * d ? target.Slice(d, d) : Solved(s, scratch[..d], row);
        for (int i = 0; i < d; i++)
        {
            u[i] = (float)(2.0 * theta[i] - s[i]);
            if (!float.IsFinite(u[i])) throw new ArgumentException($"2θ − s overflows single precision at row {row}, column {i}.", "theta");
        }
        SolverLayer.Solve(Oracle, u, yu, row);
        // The maximization form; a cost head (argmin, the paper's own form with ĉ = θ and c = s) is its mirror: s = −1.
        int sign = Oracle.Sign;
        double value = 0;
        for (int i = 0; i < d; i++)
        {
            gradient[i] = 2 * sign * (yu[i] - ys[i]);
            value += (double)u[i] * yu[i] - 2.0 * theta[i] * ys[i] + (double)s[i] * ys[i];
        }
        return sign * value;
    }

    // y*(s) into the scratch, for a target that is not encoded.
    private ReadOnlySpan<float> Solved(ReadOnlySpan<float> s, Span<float> ys, int row)
    {
        SolverLayer.Solve(Oracle, s, ys, row);
        return ys;
    }
}
