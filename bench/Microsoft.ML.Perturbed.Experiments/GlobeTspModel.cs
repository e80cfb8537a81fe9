using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// The Globe-TSP network (Sahoo et al. 2023, after Vlastelica et al. 2020): one shared MLP maps each of the k countries'
/// "flag" features (p each; a row holds the k countries side by side, k·p features) to a point in ℝ³, and the scores are
/// the k(k − 1)/2 Euclidean distances between the predicted points, in the travelling-salesman oracle's edge order (the
/// upper triangle row by row). Distances are √(‖pᵢ − pⱼ‖² + δ), δ = 1e-8, so coincident points have a derivative.
/// </summary>
public sealed class GlobeTspModel : ITrainableModel
{
    private const double Delta = 1e-8;
    private readonly MlpModel _net;

    /// <summary>Wraps <paramref name="net"/> (p features → 3 coordinates) for tours of <paramref name="cities"/> cities.</summary>
    public GlobeTspModel(MlpModel net, int cities)
    {
        if (net.Outputs != 3) throw new ArgumentException($"The embedding network must give 3 coordinates, gives {net.Outputs}.", nameof(net));
        _net = net;
        Cities = cities;
    }

    /// <summary>k.</summary>
    public int Cities { get; }

    /// <summary>p, the features of one country.</summary>
    public int CountryFeatures => _net.Features;

    /// <inheritdoc/>
    public int Features => Cities * _net.Features;

    /// <inheritdoc/>
    public int Outputs => Cities * (Cities - 1) / 2;

    /// <inheritdoc/>
    public Span<float> Parameters => _net.Parameters;

    /// <summary>The predicted points of a batch of countries' features (<c>[n × p]</c> → <c>[n × 3]</c>).</summary>
    public float[] Embed(ReadOnlySpan<float> countryFeatures)
    {
        var points = new float[countryFeatures.Length / _net.Features * 3];
        _net.Score(countryFeatures, points);
        return points;
    }

    /// <inheritdoc/>
    public void Score(ReadOnlySpan<float> features, Span<float> scores)
    {
        int batch = features.Length / Features;
        float[] points = Embed(features);   // rows of k countries are k consecutive country rows
        for (int r = 0; r < batch; r++)
        {
            for (int i = 0, e = 0; i < Cities; i++)
            {
                for (int j = i + 1; j < Cities; j++, e++) scores[r * Outputs + e] = (float)Distance(points, r * Cities + i, r * Cities + j);
            }
        }
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> features, ReadOnlySpan<float> scoreGradient, double l2, Span<double> gradient)
    {
        int batch = features.Length / Features;
        float[] points = Embed(features);
        // ∂/∂pᵢ of Σ gₑ dₑ: gₑ (pᵢ − pⱼ)/dₑ, and the opposite for pⱼ; times k, since the network averages over its n·k rows
        // and the loop's gradient is the mean over the n tours.
        var pointGradient = new float[points.Length];
        for (int r = 0; r < batch; r++)
        {
            for (int i = 0, e = 0; i < Cities; i++)
            {
                for (int j = i + 1; j < Cities; j++, e++)
                {
                    int a = (r * Cities + i) * 3, b = (r * Cities + j) * 3;
                    double scale = scoreGradient[r * Outputs + e] * Cities / Distance(points, r * Cities + i, r * Cities + j);
                    for (int c = 0; c < 3; c++)
                    {
                        float step = (float)(scale * (points[a + c] - points[b + c]));
                        pointGradient[a + c] += step;
                        pointGradient[b + c] -= step;
                    }
                }
            }
        }
        _net.Backward(features, pointGradient, l2, gradient);
    }

    private static double Distance(float[] points, int i, int j)
    {
        double sum = Delta;
        for (int c = 0; c < 3; c++)
        {
            double t = points[i * 3 + c] - points[j * 3 + c];
            sum += t * t;
        }
        return Math.Sqrt(sum);
    }

    /// <inheritdoc/>
    public ITrainableModel Clone() => new GlobeTspModel((MlpModel)_net.Clone(), Cities);

    /// <inheritdoc/>
    public ITrainableModel FirstOutputs(int outputs) => outputs == Outputs ? this
        : throw new ArgumentOutOfRangeException(nameof(outputs), outputs, $"The Globe-TSP model has exactly {Outputs} outputs.");
}
