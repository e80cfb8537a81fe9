using System.Buffers;

namespace Microsoft.ML.Perturbed.Layers;

/// <summary>The layer of <see cref="DifferentiableLayers.Sequential"/>, documented there.</summary>
internal sealed class SequentialLayer : Layer
{
    private readonly Layer[] _layers;

    /// <summary>Chains <paramref name="layers"/>, first applied first; each layer's input length must be the previous one's output length.</summary>
    public SequentialLayer(params Layer[] layers) : base(First(layers).Dimension, layers[^1].OutputDimension)
    {
        for (int i = 0; i < layers.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(layers[i], $"{nameof(layers)}[{i}]");
            if (i > 0 && layers[i].Dimension != layers[i - 1].OutputDimension)
            {
                throw new ArgumentException($"Layer {i} ({layers[i].Name}) takes {layers[i].Dimension} values but layer {i - 1} ({layers[i - 1].Name}) gives {layers[i - 1].OutputDimension}.", nameof(layers));
            }
        }
        _layers = (Layer[])layers.Clone();
    }

    /// <summary>The layers, first applied first.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <inheritdoc/>
    public override string Name => string.Join(" → ", _layers.Select(l => l.Name));

    /// <inheritdoc/>
    public override bool HasJvp => _layers.All(l => l.HasJvp);

    /// <inheritdoc/>
    public override bool IsStochastic => _layers.Any(l => l.IsStochastic);

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> theta, Span<float> solution, ulong draw = 0)
    {
        int batch = CheckInput(theta);
        Guard.Rows(solution.Length, batch, OutputDimension, nameof(solution));
        float[][] buffers = Intermediates(batch);
        try
        {
            ReadOnlySpan<float> input = theta;
            for (int i = 0; i < _layers.Length; i++)
            {
                Span<float> output = i == _layers.Length - 1 ? solution : buffers[i].AsSpan(0, batch * _layers[i].OutputDimension);
                _layers[i].Forward(input, output, draw);
                input = output;
            }
        }
        finally
        {
            Return(buffers);
        }
    }

    /// <inheritdoc/>
    public override void ForwardVjp(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
    {
        int batch = CheckVjp(theta, cotangent, solution, vjp);
        Backward(theta, batch, cotangent, null, solution, vjp, draw);
    }

    /// <inheritdoc/>
    public override void ForwardVjp(ReadOnlySpan<float> theta, CotangentFunction cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
    {
        ArgumentNullException.ThrowIfNull(cotangent);
        int batch = CheckInput(theta);
        Guard.Rows(solution.Length, batch, OutputDimension, nameof(solution));
        Guard.Rows(vjp.Length, batch, Dimension, nameof(vjp));
        Backward(theta, batch, default, cotangent, solution, vjp, draw);
    }

    /// <inheritdoc/>
    public override void ForwardJvp(ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw = 0)
    {
        if (!HasJvp) base.ForwardJvp(theta, tangent, solution, jvp, draw);
        int batch = CheckJvp(theta, tangent, solution, jvp);
        float[][] values = Intermediates(batch), tangents = Intermediates(batch);
        try
        {
            ReadOnlySpan<float> x = theta, t = tangent;
            for (int i = 0; i < _layers.Length; i++)
            {
                bool last = i == _layers.Length - 1;
                int n = batch * _layers[i].OutputDimension;
                Span<float> y = last ? solution : values[i].AsSpan(0, n), jt = last ? jvp : tangents[i].AsSpan(0, n);
                _layers[i].ForwardJvp(x, t, y, jt, draw);
                x = y;
                t = jt;
            }
        }
        finally
        {
            Return(values);
            Return(tangents);
        }
    }

    private void Backward(ReadOnlySpan<float> theta, int batch, ReadOnlySpan<float> cotangent, CotangentFunction? function,
        Span<float> solution, Span<float> vjp, ulong draw)
    {
        int k = _layers.Length;
        float[][] inputs = Intermediates(batch);   // inputs[i] = input of layer i + 1
        float[] g = ArrayPool<float>.Shared.Rent(batch * _layers.Max(l => Math.Max(l.Dimension, l.OutputDimension)));
        float[] h = ArrayPool<float>.Shared.Rent(g.Length), scratch = ArrayPool<float>.Shared.Rent(g.Length);
        try
        {
            ReadOnlySpan<float> x = theta;
            for (int i = 0; i < k - 1; i++)
            {
                Span<float> y = inputs[i].AsSpan(0, batch * _layers[i].OutputDimension);
                _layers[i].Forward(x, y, draw);
                x = y;
            }
            Layer top = _layers[k - 1];
            Span<float> gTop = k == 1 ? vjp : g.AsSpan(0, batch * top.Dimension);
            if (function is null) top.ForwardVjp(x, cotangent, solution, gTop, draw);
            else top.ForwardVjp(x, function, solution, gTop, draw);
            for (int i = k - 2; i >= 0; i--)
            {
                ReadOnlySpan<float> input = i == 0 ? theta : inputs[i - 1].AsSpan(0, batch * _layers[i].Dimension);
                Span<float> upstream = g.AsSpan(0, batch * _layers[i].OutputDimension);
                Span<float> down = i == 0 ? vjp : h.AsSpan(0, batch * _layers[i].Dimension);
                _layers[i].ForwardVjp(input, upstream, scratch.AsSpan(0, batch * _layers[i].OutputDimension), down, draw);
                if (i > 0) (g, h) = (h, g);
            }
        }
        finally
        {
            Return(inputs);
            ArrayPool<float>.Shared.Return(g);
            ArrayPool<float>.Shared.Return(h);
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    private float[][] Intermediates(int batch)
    {
        var buffers = new float[_layers.Length][];
        for (int i = 0; i < _layers.Length; i++) buffers[i] = ArrayPool<float>.Shared.Rent(batch * _layers[i].OutputDimension);
        return buffers;
    }

    private static void Return(float[][] buffers)
    {
        foreach (float[] b in buffers) ArrayPool<float>.Shared.Return(b);
    }

    private static Layer First(Layer[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0) throw new ArgumentException("A sequence needs at least one layer.", nameof(layers));
        return layers[0] ?? throw new ArgumentNullException($"{nameof(layers)}[0]");
    }
}
