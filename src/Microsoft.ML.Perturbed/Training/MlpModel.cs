using System.Buffers;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// A multilayer perceptron score model: affine layers with ReLU between them (none after the last), scored and trained
/// in plain managed code; a model trained on a GPU (Microsoft.ML.Perturbed.TorchSharp) scores without TorchSharp.
/// </summary>
public sealed class MlpModel : ITrainableModel, ISparseScoreModel
{
    private readonly AffineModel[] _layers;
    private readonly float[] _parameters;

    /// <summary>Creates the model from its layers, input first; each layer's inputs must be the previous layer's outputs.</summary>
    public MlpModel(IReadOnlyList<AffineModel> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0)
        {
            throw new ArgumentException("An MLP needs at least one layer.", nameof(layers));
        }
        for (int i = 1; i < layers.Count; i++)
        {
            if (layers[i].Features != layers[i - 1].Outputs)
            {
                throw new ArgumentException($"Layer {i} takes {layers[i].Features} inputs but layer {i - 1} gives {layers[i - 1].Outputs}.", nameof(layers));
            }
        }
        // One flat parameter vector for the training loop; the layers keep their own storage, synchronized on use.
        _layers = layers.Select(l => (AffineModel)l.Clone()).ToArray();
        long total = _layers.Sum(l => (long)l.ParameterArray.Length);
        if (total > Array.MaxLength)
        {
            throw new ArgumentException($"The MLP's layers have {total} parameters together, more than the {Array.MaxLength} one array holds.", nameof(layers));
        }
        _parameters = new float[total];
        Gather();
    }

    /// <summary>
    /// A randomly initialized MLP over <paramref name="features"/> inputs with hidden layers of the given widths and
    /// <paramref name="outputs"/> scores: every layer's weights and biases uniform in ±1/√fan-in (TorchSharp's default for
    /// linear layers), from a seeded generator.
    /// </summary>
    public static MlpModel Random(int features, IReadOnlyList<int> hiddenLayers, int outputs, int seed)
    {
        ArgumentNullException.ThrowIfNull(hiddenLayers);
        int[] widths = [features, .. hiddenLayers, outputs];
        var random = new System.Random(seed);
        var layers = new AffineModel[widths.Length - 1];
        for (int l = 0; l < layers.Length; l++)
        {
            // Each width is named as the caller gave it: hiddenLayers[i], or outputs for the last layer.
            string name = l == layers.Length - 1 ? nameof(outputs) : $"{nameof(hiddenLayers)}[{l}]";
            Guard.Positive(widths[l + 1], name);
            long parameters = (long)widths[l] * widths[l + 1] + widths[l + 1];
            if (parameters > Array.MaxLength)
            {
                throw new ArgumentOutOfRangeException(name, widths[l + 1],
                    $"Layer {l} of the MLP ({widths[l]} inputs × {widths[l + 1]} outputs) has {parameters} parameters, more than the {Array.MaxLength} one array holds.");
            }
            layers[l] = new AffineModel(widths[l], widths[l + 1]);
            float bound = 1 / MathF.Sqrt(widths[l]);
            Span<float> p = layers[l].ParameterArray;
            for (int i = 0; i < p.Length; i++) p[i] = Uniform(random, bound);
        }
        return new MlpModel(layers);
    }

    /// <summary>One initial parameter of <see cref="Random"/>: uniform in ±<paramref name="bound"/> from the run's generator.</summary>
    internal static float Uniform(System.Random random, float bound) => (float)((random.NextDouble() * 2 - 1) * bound);

    /// <summary>The layers, input first.</summary>
    public IReadOnlyList<AffineModel> Layers
    {
        get
        {
            Scatter();
            return _layers;
        }
    }

    /// <inheritdoc/>
    public int Features => _layers[0].Features;

    /// <inheritdoc/>
    public int Outputs => _layers[^1].Outputs;

    /// <inheritdoc/>
    public Span<float> Parameters => _parameters;

    /// <inheritdoc/>
    public void Score(ReadOnlySpan<float> features, Span<float> scores)
    {
        int batch = Guard.RowCount(features.Length, Features, nameof(features));
        Guard.Rows(scores.Length, batch, Outputs, nameof(scores));
        Scatter();
        // Hidden activations live in two pooled buffers used in turn, so scoring a row allocates nothing.
        int widest = _layers.Take(_layers.Length - 1).Select(l => l.Outputs).DefaultIfEmpty(0).Max() * batch;
        float[] a = ArrayPool<float>.Shared.Rent(widest), b = ArrayPool<float>.Shared.Rent(widest);
        try
        {
            ScoreLayers(0, features, batch, scores, a, b);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(a);
            ArrayPool<float>.Shared.Return(b);
        }
    }

    /// <inheritdoc/>
    public void ScoreSparse(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, Span<float> scores)
    {
        Guard.Length(scores.Length, Outputs, nameof(scores), "one score per output");
        Scatter();
        if (_layers.Length == 1)
        {
            _layers[0].ScoreSparse(indices, values, scores);
            return;
        }
        int widest = _layers.Take(_layers.Length - 1).Max(l => l.Outputs);
        float[] a = ArrayPool<float>.Shared.Rent(widest), b = ArrayPool<float>.Shared.Rent(widest);
        try
        {
            // The first layer from the row's non-zeros (into buffer a, as layer 0 of Score), then the dense layers.
            Span<float> first = a.AsSpan(0, _layers[0].Outputs);
            _layers[0].ScoreSparse(indices, values, first);
            for (int i = 0; i < first.Length; i++) first[i] = Math.Max(0f, first[i]);
            ScoreLayers(1, first, 1, scores, a, b);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(a);
            ArrayPool<float>.Shared.Return(b);
        }
    }

    /// <summary>Layers <paramref name="from"/> onwards on <paramref name="input"/>; layer l's hidden output goes to a when l is even, b when odd.</summary>
    private void ScoreLayers(int from, ReadOnlySpan<float> input, int batch, Span<float> scores, float[] a, float[] b)
    {
        for (int l = from; l < _layers.Length; l++)
        {
            AffineModel layer = _layers[l];
            if (l == _layers.Length - 1)
            {
                layer.Score(input, scores);
                return;
            }
            Span<float> output = (l % 2 == 0 ? a : b).AsSpan(0, batch * layer.Outputs);
            ScoreHidden(layer, input, output);
            input = output;
        }
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> features, ReadOnlySpan<float> scoreGradient, double l2, Span<double> gradient)
    {
        int batch = Guard.RowCount(features.Length, Features, nameof(features));
        Guard.Rows(scoreGradient.Length, batch, Outputs, nameof(scoreGradient));
        Guard.Length(gradient.Length, _parameters.Length, nameof(gradient), "one value per parameter");
        Scatter();
        // Forward pass keeping every hidden layer's (post-ReLU) output, in pooled buffers: one per hidden layer and two
        // for the input gradients, used in turn (a training step allocates nothing).
        int hidden = _layers.Length - 1, widest = 0;
        float[][] outputs = hidden == 0 ? [] : ArrayPool<float[]>.Shared.Rent(hidden);
        for (int l = 0; l < hidden; l++)
        {
            outputs[l] = ArrayPool<float>.Shared.Rent(batch * _layers[l].Outputs);
            widest = Math.Max(widest, _layers[l].Outputs);
        }
        float[] downA = ArrayPool<float>.Shared.Rent(batch * widest), downB = ArrayPool<float>.Shared.Rent(batch * widest);
        try
        {
            for (int l = 0; l < hidden; l++)
            {
                Span<float> output = outputs[l].AsSpan(0, batch * _layers[l].Outputs);
                ScoreHidden(_layers[l], Input(features, outputs, l, batch * _layers[l].Features), output);
            }
            ReadOnlySpan<float> g = scoreGradient;
            int offset = _parameters.Length;
            for (int l = _layers.Length - 1; l >= 0; l--)
            {
                AffineModel layer = _layers[l];
                offset -= layer.ParameterArray.Length;
                Span<double> slice = gradient.Slice(offset, layer.ParameterArray.Length);
                Span<float> down = l > 0 ? ((l % 2 == 0) ? downA : downB).AsSpan(0, batch * layer.Features) : default;
                layer.BackwardInto(Input(features, outputs, l, batch * layer.Features), g, slice, down);
                int wCount = layer.Outputs * layer.Features;
                ReadOnlySpan<float> w = layer.Weights;
                for (int i = 0; i < slice.Length; i++) slice[i] /= batch;
                for (int i = 0; i < wCount; i++) slice[i] += l2 * w[i];
                if (l == 0) break;
                ReadOnlySpan<float> activation = Input(features, outputs, l, batch * layer.Features);
                for (int i = 0; i < down.Length; i++) if (activation[i] <= 0) down[i] = 0;   // ReLU′
                g = down;
            }
        }
        finally
        {
            for (int l = 0; l < hidden; l++) ArrayPool<float>.Shared.Return(outputs[l]);
            if (hidden > 0) ArrayPool<float[]>.Shared.Return(outputs, clearArray: true);
            ArrayPool<float>.Shared.Return(downA);
            ArrayPool<float>.Shared.Return(downB);
        }

        // Layer l's input: the features, or the previous hidden layer's output.
        static ReadOnlySpan<float> Input(ReadOnlySpan<float> features, float[][] outputs, int l, int length) =>
            l == 0 ? features : outputs[l - 1].AsSpan(0, length);
    }

    /// <summary>A hidden layer: its affine scores, then ReLU.</summary>
    private static void ScoreHidden(AffineModel layer, ReadOnlySpan<float> input, Span<float> output)
    {
        layer.Score(input, output);
        for (int i = 0; i < output.Length; i++) output[i] = Math.Max(0f, output[i]);
    }

    /// <inheritdoc/>
    public ITrainableModel Clone()
    {
        Scatter();
        return new MlpModel(_layers);
    }

    /// <inheritdoc/>
    public ITrainableModel FirstOutputs(int outputs)
    {
        Scatter();
        var layers = _layers.ToArray();
        layers[^1] = (AffineModel)layers[^1].FirstOutputs(outputs);
        return new MlpModel(layers);
    }

    private void Gather()
    {
        int o = 0;
        foreach (AffineModel l in _layers)
        {
            l.ParameterArray.CopyTo(_parameters, o);
            o += l.ParameterArray.Length;
        }
    }

    private void Scatter()
    {
        int o = 0;
        foreach (AffineModel l in _layers)
        {
            _parameters.AsSpan(o, l.ParameterArray.Length).CopyTo(l.ParameterArray);
            o += l.ParameterArray.Length;
        }
    }
}
