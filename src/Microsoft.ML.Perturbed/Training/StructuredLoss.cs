using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// Gradient ∂L/∂θ of a <see cref="StructuredLossKind"/> for a batch of scores and targets, with the reported loss value
/// per row. Batched spans as everywhere in the library; the training step passes its index as the noise draw.
/// </summary>
public sealed class StructuredLoss
{
    private readonly PerturbedOptimizer? _optimizer;
    private readonly FenchelYoungLoss? _fenchelYoung;
    private readonly Oracle _oracle;

    /// <summary>Creates the loss over <paramref name="oracle"/>.</summary>
    /// <param name="oracle">The prediction head; its input and output dimensions must agree.</param>
    /// <param name="kind">The loss.</param>
    /// <param name="perturbation">Perturbation settings (Fenchel-Young and perturbed squared losses).</param>
    /// <param name="blackboxLambda">Interpolation step λ &gt; 0 of the blackbox loss.</param>
    public StructuredLoss(Oracle oracle, StructuredLossKind kind, PerturbedOptimizerOptions? perturbation = null, double blackboxLambda = 1.0)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown loss.");
        }
        if (oracle.OutputDimension != oracle.Dimension)
        {
            throw new ArgumentException($"{oracle.Name} maps {oracle.Dimension} scores to {oracle.OutputDimension} values; a structured loss compares θ and y in one space.", nameof(oracle));
        }
        if (kind == StructuredLossKind.Blackbox && (!(blackboxLambda > 0) || !double.IsFinite(blackboxLambda)))
        {
            throw new ArgumentOutOfRangeException(nameof(blackboxLambda), blackboxLambda, "The blackbox step λ must be a finite number greater than 0.");
        }
        _oracle = oracle;
        Kind = kind;
        BlackboxLambda = blackboxLambda;
        if (kind is StructuredLossKind.FenchelYoung or StructuredLossKind.PerturbedSquared)
        {
            _optimizer = new PerturbedOptimizer(oracle, perturbation ?? new PerturbedOptimizerOptions());
            _fenchelYoung = kind == StructuredLossKind.FenchelYoung ? new FenchelYoungLoss(_optimizer) : null;
        }
    }

    /// <summary>The loss.</summary>
    public StructuredLossKind Kind { get; }

    /// <summary>Blackbox step λ.</summary>
    public double BlackboxLambda { get; }

    /// <summary>Dimension d of scores and targets.</summary>
    public int Dimension => _oracle.Dimension;

    /// <summary>
    /// Writes ∂L/∂θ for every row into <paramref name="gradient"/> and the loss value per row into <paramref name="loss"/>;
    /// returns the mean loss. Fenchel-Young reports F̂ − ⟨θ, y⟩ (the loss up to a constant in θ); the others report their
    /// squared error.
    /// </summary>
    public double Evaluate(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient, ulong draw,
        Span<float> scratch = default)
    {
        int d = Dimension;
        int batch = Guard.RowCount(theta.Length, d, nameof(theta));
        Guard.Rows(target.Length, batch, d, nameof(target));
        Guard.Rows(gradient.Length, batch, d, nameof(gradient));
        Guard.Length(loss.Length, batch, nameof(loss), "one value per row");
        switch (Kind)
        {
            case StructuredLossKind.FenchelYoung:
                return _fenchelYoung!.Evaluate(theta, target, loss, gradient, draw);
            case StructuredLossKind.SquaredScores:
                for (int i = 0; i < theta.Length; i++) gradient[i] = theta[i] - target[i];
                return SquaredRows(gradient, loss, d);
            case StructuredLossKind.PerturbedSquared:
            {
                // g = ŷ − y is known only after the forward pass: the row's samples are reused for Jᵀg.
                Guard.Rows(scratch.Length, batch, d, nameof(scratch));
                unsafe
                {
                    fixed (float* pTarget = target)
                    fixed (float* pLoss = loss)
                    {
                        float* t = pTarget, l = pLoss;
                        _optimizer!.ForwardVjp(theta, (row, yHat, g) =>
                        {
                            double sum = 0;
                            for (int i = 0; i < yHat.Length; i++)
                            {
                                g[i] = yHat[i] - t[row * d + i];
                                sum += (double)g[i] * g[i];
                            }
                            l[row] = (float)(0.5 * sum);
                        }, scratch, gradient, draw);
                    }
                }
                double total = 0;
                foreach (float v in loss) total += v;
                return total / batch;
            }
            default:
            {
                // Blackbox for a maximizing oracle: y₀ = y*(θ), g = y₀ − y, y_λ = y*(θ − λg), ∂L/∂θ = (y₀ − y_λ)/λ.
                Guard.Rows(scratch.Length, batch, d, nameof(scratch));
                _oracle.Solve(theta, scratch);
                for (int i = 0; i < theta.Length; i++) gradient[i] = scratch[i] - target[i];
                double mean = SquaredRows(gradient, loss, d);
                float lambda = (float)BlackboxLambda;
                for (int i = 0; i < theta.Length; i++) gradient[i] = theta[i] - lambda * gradient[i];   // θ − λg
                Span<float> shifted = gradient;
                float[] interpolated = System.Buffers.ArrayPool<float>.Shared.Rent(theta.Length);
                try
                {
                    _oracle.Solve(shifted, interpolated.AsSpan(0, theta.Length));
                    for (int i = 0; i < theta.Length; i++) gradient[i] = (scratch[i] - interpolated[i]) / lambda;
                }
                finally
                {
                    System.Buffers.ArrayPool<float>.Shared.Return(interpolated);
                }
                return mean;
            }
        }
    }

    /// <summary>loss[r] = ½‖row r of <paramref name="residual"/>‖²; returns the mean.</summary>
    private static double SquaredRows(ReadOnlySpan<float> residual, Span<float> loss, int d)
    {
        double total = 0;
        for (int r = 0; r < loss.Length; r++)
        {
            double s = SpanMath.Dot(residual.Slice(r * d, d), residual.Slice(r * d, d));
            loss[r] = (float)(0.5 * s);
            total += loss[r];
        }
        return total / loss.Length;
    }
}
