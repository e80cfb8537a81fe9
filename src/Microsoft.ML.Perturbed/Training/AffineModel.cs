namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// The affine score model θ = W x + b of the papers (Berthet et al. 2020, §5): <c>Weights</c> is d × p row-major
/// (one row per output score), <c>Bias</c> has d entries.
/// </summary>
public sealed class AffineModel : ITrainableModel
{
    /// <summary>Creates a zero model with <paramref name="outputs"/> scores over <paramref name="features"/> inputs.</summary>
    public AffineModel(int features, int outputs)
    {
        Guard.Positive(features, nameof(features));
        Guard.Positive(outputs, nameof(outputs));
        Features = features;
        Outputs = outputs;
        ParameterArray = new float[outputs * features + outputs];
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
        for (int r = 0; r < batch; r++)
        {
            ReadOnlySpan<float> x = features.Slice(r * Features, Features);
            for (int k = 0; k < Outputs; k++)
            {
                scores[r * Outputs + k] = (float)(SpanMath.Dot(w.Slice(k * Features, Features), x) + b[k]);
            }
        }
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> features, ReadOnlySpan<float> scoreGradient, double l2, Span<double> gradient)
    {
        int batch = BackwardInto(features, scoreGradient, gradient, null);
        ReadOnlySpan<float> w = Weights;
        int p = Features, d = Outputs;
        for (int i = 0; i < d * p; i++) gradient[i] = gradient[i] / batch + l2 * w[i];
        for (int k = 0; k < d; k++) gradient[d * p + k] /= batch;
    }

    /// <summary>
    /// Sums ∇W = Gᵀ X and ∇b = Σ G over the batch into <paramref name="gradient"/> (cleared first) and, when
    /// <paramref name="inputGradient"/> is given, writes G W (the gradient with respect to the inputs). Returns the batch size.
    /// </summary>
    internal int BackwardInto(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<double> gradient, float[]? inputGradient)
    {
        int p = Features, d = Outputs;
        int batch = Guard.RowCount(x.Length, p, "features");
        Guard.Rows(g.Length, batch, d, "scoreGradient");
        Guard.Length(gradient.Length, ParameterArray.Length, "gradient", "one value per parameter");
        gradient.Clear();
        ReadOnlySpan<float> w = Weights;
        for (int r = 0; r < batch; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * p, p);
            Span<float> gin = inputGradient is null ? default : inputGradient.AsSpan(r * p, p);
            gin.Clear();
            for (int k = 0; k < d; k++)
            {
                double gk = g[r * d + k];
                if (gk == 0) continue;
                SpanMath.AddScaled(gradient.Slice(k * p, p), xr, gk);
                gradient[d * p + k] += gk;
                if (inputGradient is not null)
                {
                    ReadOnlySpan<float> wk = w.Slice(k * p, p);
                    for (int j = 0; j < p; j++) gin[j] += (float)(gk * wk[j]);
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
