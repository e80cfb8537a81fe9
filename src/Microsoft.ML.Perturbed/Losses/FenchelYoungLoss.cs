namespace Microsoft.ML.Perturbed.Losses;

/// <summary>The loss of <see cref="StructuredLoss.FenchelYoung"/>, documented there.</summary>
internal sealed class FenchelYoungLoss : StructuredLoss
{
    /// <summary>Creates the loss of a perturbed optimizer (additive or multiplicative) that maps scores to the same space.</summary>
    /// <exception cref="ArgumentException">The oracle's output dimension differs from its input dimension.</exception>
    public FenchelYoungLoss(PerturbedOptimizer optimizer)
        : base((optimizer ?? throw new ArgumentNullException(nameof(optimizer))).Oracle.Dimension, optimizer.Oracle.Dimension)
    {
        if (optimizer.Oracle.OutputDimension != optimizer.Oracle.Dimension)
        {
            throw new ArgumentException(
                $"The Fenchel-Young loss compares θ and y in one space; {optimizer.Oracle.Name} maps {optimizer.Oracle.Dimension} scores to {optimizer.Oracle.OutputDimension} values.",
                nameof(optimizer));
        }
        Optimizer = optimizer;
        IsExact = optimizer.Oracle.IsUnitSimplex && optimizer.Noise is Noise.GumbelNoise && optimizer.Perturbation == PerturbationKind.Additive;
    }

    /// <summary>
    /// Whether the loss is computed in closed form: for a head over the unit simplex (the argmax head; the oracle says so)
    /// under additive Gumbel noise, ŷ_ε(θ) = softmax(θ/ε) and
    /// F_ε(θ) = ε·logsumexp(θ/ε) + εγ exactly, so no samples are drawn (M draws would only add variance) and the draw index
    /// does not matter. Every other head and noise uses the Monte-Carlo estimate.
    /// </summary>
    public bool IsExact { get; }

    /// <summary>The perturbed optimizer whose F_ε defines the loss.</summary>
    public PerturbedOptimizer Optimizer { get; }

    /// <inheritdoc/>
    public override string Name => $"FenchelYoung({Optimizer.Name})";

    /// <inheritdoc/>
    internal override DeviceLossForm? DeviceForm =>
        Optimizer.Perturbation == PerturbationKind.Additive ? new DeviceLossForm(DeviceLossKind.FenchelYoung, Optimizer) : null;

    /// <summary>
    /// Per row: the value F̂ − ⟨θ, y⟩ (equal to the loss up to a constant in θ) and the gradient ŷ_ε(θ) − y (multiplicative:
    /// ∇F̂ − y); the targets y are points of the oracle's polytope (one-hot labels, rank vectors, …).
    /// </summary>
    protected override void EvaluateCore(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient, ulong draw)
    {
        int d = Dimension, batch = loss.Length;
        if (IsExact)
        {
            ExactSoftmax(theta, target, loss, gradient);
            return;
        }
        double[] noise = System.Buffers.ArrayPool<double>.Shared.Rent(batch);
        try
        {
            if (Optimizer.Perturbation == PerturbationKind.Multiplicative)
            {
                // F̂ = ⟨∇F̂, θ⟩ (1-homogeneous), so F̂ − ⟨θ, y⟩ = ⟨∇F̂ − y, θ⟩ with no noise part.
                Optimizer.ForwardMaxGradient(theta, gradient, draw);
                noise.AsSpan(0, batch).Clear();
            }
            else
            {
                // F̂ − ⟨θ, y⟩ = ⟨ŷ − y, θ⟩ + (1/M) Σₘ ⟨yₘ, εZₘ⟩, in double: no cancellation between two values of order |θ|.
                Optimizer.ForwardNoisePart(theta, gradient, noise.AsSpan(0, batch), draw);
            }
            // A cost head (argmin) has the mirrored loss ⟨θ, y⟩ − F_ε(θ) + εΩ(y): value and gradient change sign.
            int sign = Optimizer.Oracle.Sign;
            for (int r = 0; r < batch; r++)
            {
                int o = r * d;
                ReadOnlySpan<float> y = target.Slice(o, d), th = theta.Slice(o, d);
                Span<float> g = gradient.Slice(o, d);
                double value = noise[r];
                for (int i = 0; i < d; i++)
                {
                    value += ((double)g[i] - y[i]) * th[i];
                    g[i] = sign * (g[i] - y[i]);
                }
                loss[r] = (float)(sign * value);
                if (!float.IsFinite(loss[r]))
                {
                    throw new ArgumentException($"The Fenchel-Young value of row {r} is {value:G6}, beyond single precision: the scores are too large for their targets.", nameof(theta));
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(noise);
        }
    }

    /// <summary>The closed form of the Gumbel-argmax loss: gradient softmax(θ/ε) − y, value ε·LSE(θ/ε) + εγ − ⟨θ, y⟩, in double.</summary>
    private void ExactSoftmax(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient)
    {
        int d = Dimension;
        double eps = Optimizer.Epsilon;
        for (int r = 0; r < loss.Length; r++)
        {
            ReadOnlySpan<float> th = theta.Slice(r * d, d), y = target.Slice(r * d, d);
            Span<float> g = gradient.Slice(r * d, d);
            // Relative to the largest score θ_k, so that nothing cancels at any magnitude:
            // value = ε(log Σ exp((θᵢ − θ_k)/ε) + γ) + Σ yᵢ(θ_k − θᵢ) + θ_k(1 − Σ y).
            int k = Oracles.ArgmaxOracle.IndexOfMax(th);
            double sum = 0;
            for (int i = 0; i < d; i++) sum += Math.Exp(((double)th[i] - th[k]) / eps);
            double value = eps * (Math.Log(sum) + Noise.GumbelNoise.EulerGamma), mass = 0;
            for (int i = 0; i < d; i++)
            {
                g[i] = (float)(Math.Exp(((double)th[i] - th[k]) / eps) / sum - y[i]);
                value += y[i] * ((double)th[k] - th[i]);
                mass += y[i];
            }
            value += th[k] * (1 - mass);
            loss[r] = (float)value;
            if (!float.IsFinite(loss[r]))
            {
                throw new ArgumentException($"The Fenchel-Young value of row {r} is {value:G6}, beyond single precision: the scores are too large for their targets.", nameof(theta));
            }
        }
    }
}
