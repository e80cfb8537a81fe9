using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// The score of a number written with <see cref="Places"/> digit images: s = Σ_d a_d f(image_d), one network f shared by the
/// places (an MLP of an image's pixels to one value, ReLU between layers) and learned place weights a_d, which start equal
/// (1), so no place order is built in. Parameters: f's, then a. The digit-sorting experiment scores each number of a
/// sequence with it inside an <see cref="ItemwiseModel"/>.
/// </summary>
public sealed class PlaceValueModel : ITrainableModel
{
    private readonly MlpModel _digit;
    private readonly float[] _parameters;

    /// <summary>Creates the model: f uniform in ±1/√fan-in (<see cref="MlpModel.Random"/>), seeded; place weights 1.</summary>
    public PlaceValueModel(int places, int pixels, IReadOnlyList<int> hidden, int seed)
        : this(places, MlpModel.Random(pixels, hidden, 1, seed), Enumerable.Repeat(1f, places).ToArray())
    {
    }

    private PlaceValueModel(int places, MlpModel digit, ReadOnlySpan<float> placeWeights)
    {
        Places = places;
        _digit = (MlpModel)digit.Clone();
        _parameters = new float[_digit.Parameters.Length + places];
        _digit.Parameters.CopyTo(_parameters);
        placeWeights.CopyTo(_parameters.AsSpan(_digit.Parameters.Length));
    }

    /// <summary>Digit images per number.</summary>
    public int Places { get; }

    /// <inheritdoc/>
    public int Features => Places * _digit.Features;

    /// <inheritdoc/>
    public int Outputs => 1;

    /// <inheritdoc/>
    public Span<float> Parameters => _parameters;

    /// <summary>The place weights a_d, most significant place first.</summary>
    public ReadOnlySpan<float> PlaceWeights => _parameters.AsSpan(_digit.Parameters.Length, Places);

    /// <summary>f of each image of <paramref name="images"/> (<c>[count × pixels]</c>): the shared digit network's value.</summary>
    public float[] DigitScores(ReadOnlySpan<float> images) => Digits(images);

    /// <inheritdoc/>
    public void Score(ReadOnlySpan<float> features, Span<float> scores)
    {
        if ((long)scores.Length * Features != features.Length)
        {
            throw new ArgumentException($"Expected {Features} features per score ({scores.Length} scores), found {features.Length} features.", nameof(features));
        }
        float[] f = Digits(features);
        ReadOnlySpan<float> a = PlaceWeights;
        for (int r = 0; r < scores.Length; r++)
        {
            float s = 0;
            for (int d = 0; d < Places; d++) s += a[d] * f[r * Places + d];
            scores[r] = s;
        }
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> features, ReadOnlySpan<float> scoreGradient, double l2, Span<double> gradient)
    {
        float[] f = Digits(features);
        int rows = scoreGradient.Length, digitParameters = _digit.Parameters.Length;
        ReadOnlySpan<float> a = PlaceWeights;
        var digitGradient = new float[rows * Places];
        Span<double> placeGradient = gradient.Slice(digitParameters, Places);
        placeGradient.Clear();
        for (int r = 0; r < rows; r++)
        {
            for (int d = 0; d < Places; d++)
            {
                digitGradient[r * Places + d] = scoreGradient[r] * a[d];
                placeGradient[d] += scoreGradient[r] * (double)f[r * Places + d];
            }
        }
        for (int d = 0; d < Places; d++) placeGradient[d] = placeGradient[d] / rows + l2 * a[d];
        // f sees rows·places images and averages over them; the loss averages over the rows (the ItemwiseModel rule).
        Span<double> g = gradient[..digitParameters];
        _digit.Backward(features, digitGradient, l2 / Places, g);
        for (int i = 0; i < g.Length; i++) g[i] *= Places;
    }

    /// <inheritdoc/>
    public ITrainableModel Clone()
    {
        Scatter();
        return new PlaceValueModel(Places, _digit, PlaceWeights);
    }

    /// <inheritdoc/>
    public ITrainableModel FirstOutputs(int outputs) => outputs == 1
        ? Clone()
        : throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "A place-value model has one output.");

    /// <summary>f of every image: [rows × places·pixels] is the same memory as [rows·places × pixels].</summary>
    private float[] Digits(ReadOnlySpan<float> features)
    {
        Scatter();
        var f = new float[features.Length / _digit.Features];
        _digit.Score(features, f);
        return f;
    }

    private void Scatter() => _parameters.AsSpan(0, _digit.Parameters.Length).CopyTo(_digit.Parameters);
}
