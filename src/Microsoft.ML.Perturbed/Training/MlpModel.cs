using System.Buffers;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// A multilayer perceptron score model: affine layers with ReLU between them (none after the last), scored in plain
/// managed code, so a model trained on a GPU (Microsoft.ML.Perturbed.TorchSharp) scores without TorchSharp.
/// </summary>
public sealed class MlpModel : IScoreModel
{
    private readonly AffineModel[] _layers;

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
        _layers = layers.ToArray();
    }

    /// <summary>The layers, input first.</summary>
    public IReadOnlyList<AffineModel> Layers => _layers;

    /// <inheritdoc/>
    public int Features => _layers[0].Features;

    /// <inheritdoc/>
    public int Outputs => _layers[^1].Outputs;

    /// <inheritdoc/>
    public void Score(ReadOnlySpan<float> features, Span<float> scores)
    {
        int batch = Guard.RowCount(features.Length, Features, nameof(features));
        Guard.Rows(scores.Length, batch, Outputs, nameof(scores));
        // Hidden activations live in two pooled buffers used in turn, so scoring a row allocates nothing.
        int widest = _layers.Take(_layers.Length - 1).Select(l => l.Outputs).DefaultIfEmpty(0).Max() * batch;
        float[] a = ArrayPool<float>.Shared.Rent(widest), b = ArrayPool<float>.Shared.Rent(widest);
        try
        {
            ReadOnlySpan<float> input = features;
            for (int l = 0; l < _layers.Length; l++)
            {
                AffineModel layer = _layers[l];
                if (l == _layers.Length - 1)
                {
                    layer.Score(input, scores);
                    break;
                }
                Span<float> output = (l % 2 == 0 ? a : b).AsSpan(0, batch * layer.Outputs);
                layer.Score(input, output);
                for (int i = 0; i < output.Length; i++) output[i] = Math.Max(0f, output[i]);   // ReLU
                input = output;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(a);
            ArrayPool<float>.Shared.Return(b);
        }
    }
}
