namespace Microsoft.ML.Perturbed;

/// <summary>
/// The perturbed Fenchel-Young loss L_ε(θ; y) = F_ε(θ) + εΩ(y) − ⟨θ, y⟩ (Berthet et al. 2020, §4): convex in θ,
/// non-negative, zero iff ŷ_ε(θ) = y, with gradient ∇_θ L = y*_ε(θ) − y. The gradient needs no Jacobian,
/// so one forward pass of M solves per row gives it, and M = 1 already gives an unbiased stochastic gradient.
/// </summary>
/// <remarks>
/// Ω (the Fenchel conjugate of F_ε, scaled) has no closed form in general. The <b>value</b> reported is therefore
/// F̂_ε(θ) − ⟨θ, y⟩, which equals L_ε(θ; y) up to the constant εΩ(y): it does not depend on θ, so it is the right
/// quantity to monitor and compare across θ for a fixed target, but it is not the loss itself and can be negative.
/// </remarks>
public sealed class FenchelYoungLoss
{
    /// <summary>Creates the loss of a perturbed optimizer; it must use additive noise and map scores to the same space.</summary>
    /// <exception cref="ArgumentException">The perturbation is multiplicative, or the oracle's output dimension differs from its input dimension.</exception>
    public FenchelYoungLoss(PerturbedOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (optimizer.Perturbation != PerturbationKind.Additive)
        {
            throw new ArgumentException("The Fenchel-Young loss is defined for additive perturbation only (its gradient is ŷ − y there).", nameof(optimizer));
        }
        if (optimizer.Oracle.OutputDimension != optimizer.Oracle.Dimension)
        {
            throw new ArgumentException(
                $"The Fenchel-Young loss compares θ and y in one space; {optimizer.Oracle.Name} maps {optimizer.Oracle.Dimension} scores to {optimizer.Oracle.OutputDimension} values.",
                nameof(optimizer));
        }
        Optimizer = optimizer;
    }

    /// <summary>The perturbed optimizer whose F_ε defines the loss.</summary>
    public PerturbedOptimizer Optimizer { get; }

    /// <summary>
    /// Evaluates the loss of every row and its gradient. Returns the mean over rows of F̂ − ⟨θ, y⟩.
    /// </summary>
    /// <param name="theta">Scores θ, <c>[batch × d]</c>.</param>
    /// <param name="target">Targets y (points of the oracle's polytope, e.g. one-hot labels or rank vectors), <c>[batch × d]</c>.</param>
    /// <param name="loss">Destination for F̂_ε(θ) − ⟨θ, y⟩ per row (equal to the loss up to a constant in θ).</param>
    /// <param name="gradient">Destination for ŷ_ε(θ) − y, <c>[batch × d]</c>.</param>
    /// <param name="draw">Index of the noise draw (a training loop passes its step).</param>
    public double Evaluate(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient, ulong draw = 0)
    {
        int d = Optimizer.Oracle.Dimension;
        int batch = Guard.RowCount(theta.Length, d, nameof(theta));
        Guard.Rows(target.Length, batch, d, nameof(target));
        Guard.Length(loss.Length, batch, nameof(loss), "one value per row");
        Guard.Finite(target, d, nameof(target));
        Optimizer.Forward(theta, gradient, loss, draw);
        double total = 0;
        for (int r = 0; r < batch; r++)
        {
            int o = r * d;
            ReadOnlySpan<float> y = target.Slice(o, d);
            loss[r] = (float)(loss[r] - SpanMath.Dot(theta.Slice(o, d), y));
            total += loss[r];
            Span<float> g = gradient.Slice(o, d);
            for (int i = 0; i < d; i++)
            {
                g[i] -= y[i];
            }
        }
        return total / batch;
    }
}
