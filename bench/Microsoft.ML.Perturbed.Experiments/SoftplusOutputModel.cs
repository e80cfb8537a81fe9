using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// A score model whose outputs are softplus(z) = log(1 + eᶻ) of an inner model's z: positive costs for a shortest-path head
/// (Dijkstra needs them; the Warcraft papers' networks end in a positive map as well), so that no method can push a cost
/// below 0, where the head would read it as 0 and its gradient would run on without changing the path. The backward pass
/// scales the score gradient by softplus′(z) = sigmoid(z) and hands it to the inner model.
/// </summary>
public sealed class SoftplusOutputModel(ITrainableModel inner) : ITrainableModel
{
    private float[] _z = [];

    /// <inheritdoc/>
    public int Features => inner.Features;

    /// <inheritdoc/>
    public int Outputs => inner.Outputs;

    /// <inheritdoc/>
    public Span<float> Parameters => inner.Parameters;

    /// <inheritdoc/>
    public void Score(ReadOnlySpan<float> features, Span<float> scores)
    {
        inner.Score(features, scores);
        foreach (ref float s in scores) s = Softplus(s);
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> features, ReadOnlySpan<float> scoreGradient, double l2, Span<double> gradient)
    {
        if (_z.Length < scoreGradient.Length) _z = new float[scoreGradient.Length];
        Span<float> z = _z.AsSpan(0, scoreGradient.Length);
        inner.Score(features, z);
        for (int i = 0; i < z.Length; i++) z[i] = (float)(scoreGradient[i] / (1 + Math.Exp(-(double)z[i])));
        inner.Backward(features, z, l2, gradient);
    }

    /// <inheritdoc/>
    public ITrainableModel Clone() => new SoftplusOutputModel(inner.Clone());

    /// <inheritdoc/>
    public ITrainableModel FirstOutputs(int outputs) => new SoftplusOutputModel(inner.FirstOutputs(outputs));

    /// <summary>Smallest output: softplus below it (z &lt; −13.8) reads as it, so that a cost is never 0 (multiplicative noise needs θ &gt; 0).</summary>
    public const float Floor = 1e-6f;

    /// <summary>max(softplus(z), <see cref="Floor"/>), softplus(z) = max(z, 0) + log(1 + e^−|z|) computed without overflow.</summary>
    public static float Softplus(float z) => Math.Max(Floor, (float)(Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs((double)z)))));
}
