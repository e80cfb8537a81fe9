namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// The affine score model θ = W x + b of the papers (Berthet et al. 2020, §5): <c>Weights</c> is d × p row-major
/// (one row per output score), <c>Bias</c> has d entries.
/// </summary>
public sealed class AffineModel : ITrainableModel, ISparseScoreModel
{
    /// <summary>Creates a zero model with <paramref name="outputs"/> scores over <paramref name="features"/> inputs.</summary>
    public AffineModel(int features, int outputs)
    {
        Guard.Positive(features, nameof(features));
        Guard.Positive(outputs, nameof(outputs));
        long parameters = (long)outputs * features + outputs;   // in 64 bits: 65,536 × 65,536 overflows an int
        if (parameters > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(features), features,
                $"An affine model of {features} features × {outputs} outputs has {parameters} parameters, more than the {Array.MaxLength} one array holds.");
        }
        Features = features;
        Outputs = outputs;
        ParameterArray = new float[parameters];
    }

    /// <summary>Creates a model from given weights (d × p, row-major) and bias (d).</summary>
    public AffineModel(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
        : this(Guard.RowCount(weights.Length, bias.Length, nameof(weights)), bias.Length)
    {
        Guard.Finite(weights, Features, nameof(weights));
        Guard.Finite(bias, Outputs, nameof(bias));
        weights.CopyTo(ParameterArray);
        bias.CopyTo(ParameterArray.AsSpan(Outputs * Features));
    }

    /// <summary>Number p of features.</summary>
    public int Features { get; }

    /// <summary>Number d of scores.</summary>
    public int Outputs { get; }

    /// <summary>All parameters: the weights (d × p, row-major) followed by the bias (d).</summary>
    internal float[] ParameterArray { get; }

    /// <inheritdoc/>
    public Span<float> Parameters => ParameterArray;

    /// <summary>W (d × p, row-major).</summary>
    public ReadOnlySpan<float> Weights => ParameterArray.AsSpan(0, Outputs * Features);

    /// <summary>b (d).</summary>
    public ReadOnlySpan<float> Bias => ParameterArray.AsSpan(Outputs * Features, Outputs);

    /// <summary>Scores θ = W x + b for a batch of feature rows (<c>[batch × p]</c> → <c>[batch × d]</c>).</summary>
    public void Score(ReadOnlySpan<float> features, Span<float> scores)
    {
        int batch = Guard.RowCount(features.Length, Features, nameof(features));
        Guard.Rows(scores.Length, batch, Outputs, nameof(scores));
        ReadOnlySpan<float> w = Weights, b = Bias;
        Span<double> four = stackalloc double[4];
        for (int r = 0; r < batch; r++)
        {
            ReadOnlySpan<float> x = features.Slice(r * Features, Features);
            int k = 0;
            for (; k + 4 <= Outputs; k += 4)
            {
                // Four outputs at a time (independent chains, the same bits as one at a time).
                SpanMath.Dot4(w, k, x, four);
                for (int q = 0; q < 4; q++) scores[r * Outputs + k + q] = (float)(four[q] + b[k + q]);
            }
            for (; k < Outputs; k++)
            {
                scores[r * Outputs + k] = (float)(SpanMath.Dot(w.Slice(k * Features, Features), x) + b[k]);
            }
        }
    }

    /// <inheritdoc/>
    public void ScoreSparse(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, Span<float> scores)
    {
        Guard.Length(values.Length, indices.Length, nameof(values), "one value per index");
        Guard.Length(scores.Length, Outputs, nameof(scores), "one score per output");
        for (int i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)Features) throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Expected slots in [0, {Features}).");
        }
        ReadOnlySpan<float> w = Weights, b = Bias;
        for (int k = 0; k < Outputs; k++)
        {
            ReadOnlySpan<float> wk = w.Slice(k * Features, Features);
            double sum = 0;
            for (int i = 0; i < indices.Length; i++) sum += (double)wk[indices[i]] * values[i];
            scores[k] = (float)(sum + b[k]);
        }
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> features, ReadOnlySpan<float> scoreGradient, double l2, Span<double> gradient)
    {
        int batch = BackwardInto(features, scoreGradient, gradient, default);
        ReadOnlySpan<float> w = Weights;
        int p = Features, d = Outputs;
        for (int i = 0; i < d * p; i++) gradient[i] = gradient[i] / batch + l2 * w[i];
        for (int k = 0; k < d; k++) gradient[d * p + k] /= batch;
    }

    /// <summary>
    /// Sums ∇W = Gᵀ X and ∇b = Σ G over the batch into <paramref name="gradient"/> (cleared first) and, when
    /// <paramref name="inputGradient"/> is not empty, writes G W (the gradient with respect to the inputs). Returns the batch size.
    /// </summary>
    internal int BackwardInto(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<double> gradient, Span<float> inputGradient)
    {
        int p = Features, d = Outputs;
        int batch = Guard.RowCount(x.Length, p, "features");
        Guard.Rows(g.Length, batch, d, "scoreGradient");
        Guard.Length(gradient.Length, ParameterArray.Length, "gradient", "one value per parameter");
        gradient.Clear();
        ReadOnlySpan<float> w = Weights;
        bool hasInputGradient = !inputGradient.IsEmpty;
        if (hasInputGradient) inputGradient[..(batch * p)].Clear();
        // Outputs in blocks, rows inside: a block's gradient rows stay in cache while the batch streams past. Every
        // element still receives its terms in the same order (rows ascending for ∇W and ∇b, outputs ascending for the
        // input gradient), so the result is the same bits as the plain row-by-row loop.
        const int outputBlock = 8;
        for (int k0 = 0; k0 < d; k0 += outputBlock)
        {
            int k1 = Math.Min(d, k0 + outputBlock);
            for (int r = 0; r < batch; r++)
            {
                ReadOnlySpan<float> xr = x.Slice(r * p, p);
                Span<float> gin = hasInputGradient ? inputGradient.Slice(r * p, p) : default;
                for (int k = k0; k < k1; k++)
                {
                    double gk = g[r * d + k];
                    if (gk == 0) continue;
                    SpanMath.AddScaled(gradient.Slice(k * p, p), xr, gk);
                    gradient[d * p + k] += gk;
                    if (hasInputGradient)
                    {
                        SpanMath.AddScaledRounded(gin, w.Slice(k * p, p), gk);
                    }
                }
            }
        }
        return batch;
    }

    /// <inheritdoc/>
    public ITrainableModel Clone() => new AffineModel(Weights, Bias);

    /// <inheritdoc/>
    public ITrainableModel FirstOutputs(int outputs)
    {
        if (outputs < 1 || outputs > Outputs) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, $"Expected 1 to {Outputs} outputs.");
        return new AffineModel(Weights[..(outputs * Features)], Bias[..outputs]);
    }
}
