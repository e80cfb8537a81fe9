using System.Buffers;
using Microsoft.ML.Perturbed.Losses;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// A score model for inputs made of n items (numbers, objects, candidates) that scores every item with one shared
/// network: a feature row holds n items of q features each, and output row block i (k scores) is
/// <c>Item(xᵢ)</c>, so θ is an n × k matrix row-major — an n × n assignment score matrix when k = n, the architecture of
/// Gumbel-Sinkhorn networks (Mena et al. 2018) and of the direct-loss matching experiment (Cohen Indelman &amp; Hazan 2021).
/// Optional <see cref="Extra"/> outputs come after the matrix from an affine map of the whole row, such as the learned
/// noise scale v of <see cref="DirectLossMinimization"/> (σ = softplus(v)).
/// </summary>
/// <remarks>
/// Parameters are the item network's followed by the extra map's, as one flat vector for the training loop. Pass it to
/// the loop through <see cref="StructuredTrainerOptions.ModelFactory"/>. Sharing the network makes the scores equivariant:
/// permuting the items permutes the rows of θ.
/// </remarks>
public sealed class ItemwiseModel : ITrainableModel
{
    private readonly ITrainableModel _item;
    private readonly AffineModel? _extra;
    private readonly float[] _parameters;

    /// <summary>Creates the model.</summary>
    /// <param name="items">Number n of items per row.</param>
    /// <param name="item">The shared network from an item's q features to its k scores (copied).</param>
    /// <param name="extra">Optional affine map from the n·q features to the extra outputs (copied); null (default) for none.</param>
    public ItemwiseModel(int items, ITrainableModel item, AffineModel? extra = null)
    {
        Guard.Positive(items, nameof(items));
        ArgumentNullException.ThrowIfNull(item);
        if (extra is not null && extra.Features != items * item.Features)
        {
            throw new ArgumentException($"The extra outputs read the whole row of {items} × {item.Features} features, but the map takes {extra.Features}.", nameof(extra));
        }
        Items = items;
        _item = item.Clone();
        _extra = (AffineModel?)extra?.Clone();
        _parameters = new float[_item.Parameters.Length + (_extra?.Parameters.Length ?? 0)];
        _item.Parameters.CopyTo(_parameters);
        _extra?.Parameters.CopyTo(_parameters.AsSpan(_item.Parameters.Length));
    }

    /// <summary>
    /// n items of q features scored by an MLP q → hidden → k (ReLU between layers), plus <paramref name="extraOutputs"/>
    /// affine outputs of the whole row; every weight and bias uniform in ±1/√fan-in (TorchSharp's default), seeded.
    /// </summary>
    public static ItemwiseModel Random(int items, int itemFeatures, IReadOnlyList<int> hiddenLayers, int itemOutputs, int extraOutputs, int seed)
    {
        Guard.Positive(items, nameof(items));
        Guard.Positive(itemFeatures, nameof(itemFeatures));
        Check.AtLeast(extraOutputs, 0, nameof(extraOutputs));
        MlpModel item = MlpModel.Random(itemFeatures, hiddenLayers, itemOutputs, seed);
        AffineModel? extra = null;
        if (extraOutputs > 0)
        {
            // The same rule from its own seeded generator, so the item network does not depend on whether extras exist.
            MlpModel map = MlpModel.Random(items * itemFeatures, [], extraOutputs, unchecked(seed * 31 + 7));
            extra = map.Layers[0];
        }
        return new ItemwiseModel(items, item, extra);
    }

    /// <summary>Number n of items per row.</summary>
    public int Items { get; }

    /// <summary>The shared item network (its parameters as of the last call).</summary>
    public IScoreModel Item
    {
        get
        {
            Scatter();
            return _item;
        }
    }

    /// <summary>The extra outputs' affine map, or null.</summary>
    public AffineModel? Extra
    {
        get
        {
            Scatter();
            return _extra;
        }
    }

    /// <inheritdoc/>
    public int Features => Items * _item.Features;

    /// <inheritdoc/>
    public int Outputs => Items * _item.Outputs + (_extra?.Outputs ?? 0);

    /// <inheritdoc/>
    public Span<float> Parameters => _parameters;

    /// <inheritdoc/>
    public void Score(ReadOnlySpan<float> features, Span<float> scores)
    {
        int batch = Guard.RowCount(features.Length, Features, nameof(features));
        Guard.Rows(scores.Length, batch, Outputs, nameof(scores));
        Scatter();
        int block = Items * _item.Outputs, extras = _extra?.Outputs ?? 0;
        if (extras == 0)
        {
            _item.Score(features, scores);   // [batch·n × q] → [batch·n × k] is the same memory as [batch × n·k]
            return;
        }
        // The item network writes [batch·n × k] contiguously; the rows of θ interleave it with the extras (pooled buffers).
        float[] matrix = ArrayPool<float>.Shared.Rent(batch * block), extra = ArrayPool<float>.Shared.Rent(batch * extras);
        try
        {
            _item.Score(features, matrix.AsSpan(0, batch * block));
            _extra!.Score(features, extra.AsSpan(0, batch * extras));
            for (int r = 0; r < batch; r++)
            {
                matrix.AsSpan(r * block, block).CopyTo(scores.Slice(r * Outputs, block));
                extra.AsSpan(r * extras, extras).CopyTo(scores.Slice(r * Outputs + block, extras));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(matrix);
            ArrayPool<float>.Shared.Return(extra);
        }
    }

    /// <inheritdoc/>
    public void Backward(ReadOnlySpan<float> features, ReadOnlySpan<float> scoreGradient, double l2, Span<double> gradient)
    {
        int batch = Guard.RowCount(features.Length, Features, nameof(features));
        Guard.Rows(scoreGradient.Length, batch, Outputs, nameof(scoreGradient));
        Guard.Length(gradient.Length, _parameters.Length, nameof(gradient), "one value per parameter");
        Scatter();
        int block = Items * _item.Outputs, extras = _extra?.Outputs ?? 0, itemParameters = _item.Parameters.Length;
        // The item network sees batch·n rows and averages over them; the loss averages over the batch's rows only.
        Span<double> itemGradient = gradient[..itemParameters];
        if (extras == 0)
        {
            _item.Backward(features, scoreGradient, l2 / Items, itemGradient);   // the same memory layout, as in Score
        }
        else
        {
            float[] matrixGradient = ArrayPool<float>.Shared.Rent(batch * block), extraGradient = ArrayPool<float>.Shared.Rent(batch * extras);
            try
            {
                for (int r = 0; r < batch; r++)
                {
                    scoreGradient.Slice(r * Outputs, block).CopyTo(matrixGradient.AsSpan(r * block, block));
                    scoreGradient.Slice(r * Outputs + block, extras).CopyTo(extraGradient.AsSpan(r * extras, extras));
                }
                _item.Backward(features, matrixGradient.AsSpan(0, batch * block), l2 / Items, itemGradient);
                _extra!.Backward(features, extraGradient.AsSpan(0, batch * extras), l2, gradient[itemParameters..]);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(matrixGradient);
                ArrayPool<float>.Shared.Return(extraGradient);
            }
        }
        for (int i = 0; i < itemGradient.Length; i++) itemGradient[i] *= Items;
    }

    /// <inheritdoc/>
    public ITrainableModel Clone()
    {
        Scatter();
        return new ItemwiseModel(Items, _item, _extra);
    }

    /// <inheritdoc/>
    public ITrainableModel FirstOutputs(int outputs)
    {
        int block = Items * _item.Outputs;
        if (outputs == Outputs) return Clone();
        Scatter();
        if (outputs == block) return new ItemwiseModel(Items, _item);
        if (outputs > block && outputs < Outputs) return new ItemwiseModel(Items, _item, (AffineModel)_extra!.FirstOutputs(outputs - block));
        throw new ArgumentOutOfRangeException(nameof(outputs), outputs, $"An itemwise model keeps whole item blocks: expected {block} to {Outputs} outputs.");
    }

    private void Scatter()
    {
        int itemParameters = _item.Parameters.Length;
        _parameters.AsSpan(0, itemParameters).CopyTo(_item.Parameters);
        if (_extra is not null) _parameters.AsSpan(itemParameters).CopyTo(_extra.Parameters);
    }
}
