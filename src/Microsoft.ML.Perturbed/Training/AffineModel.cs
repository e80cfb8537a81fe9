namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// The affine score model θ = W x + b of the papers (Berthet et al. 2020, §5): <c>Weights</c> is d × p row-major
/// (one row per output score), <c>Bias</c> has d entries.
/// </summary>
public sealed class AffineModel : IScoreModel
{
    /// <summary>Creates a zero model with <paramref name="outputs"/> scores over <paramref name="features"/> inputs.</summary>
    public AffineModel(int features, int outputs)
    {
        Guard.Positive(features, nameof(features));
        Guard.Positive(outputs, nameof(outputs));
        Features = features;
        Outputs = outputs;
        Parameters = new float[outputs * features + outputs];
    }

    /// <summary>Creates a model from given weights (d × p, row-major) and bias (d).</summary>
    public AffineModel(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
        : this(Guard.RowCount(weights.Length, bias.Length, nameof(weights)), bias.Length)
    {
        Guard.Finite(weights, Features, nameof(weights));
        Guard.Finite(bias, Outputs, nameof(bias));
        weights.CopyTo(Parameters);
        bias.CopyTo(Parameters.AsSpan(Outputs * Features));
    }

    /// <summary>Number p of features.</summary>
    public int Features { get; }

    /// <summary>Number d of scores.</summary>
    public int Outputs { get; }

    /// <summary>All parameters: the weights (d × p, row-major) followed by the bias (d).</summary>
    internal float[] Parameters { get; }

    /// <summary>W (d × p, row-major).</summary>
    public ReadOnlySpan<float> Weights => Parameters.AsSpan(0, Outputs * Features);

    /// <summary>b (d).</summary>
    public ReadOnlySpan<float> Bias => Parameters.AsSpan(Outputs * Features, Outputs);

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
}
