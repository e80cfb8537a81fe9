using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// A one-hidden-layer ReLU network (two <see cref="AffineModel"/>s, initialized as <see cref="MlpModel.Random"/>) trained
/// by its own Adam steps, with the gradient with respect to its inputs: what a model that chains a network, a
/// combinatorial layer and another network needs (<see cref="MlpModel.Backward"/> gives the parameters' gradient only).
/// </summary>
public sealed class TwoLayerNetwork
{
    private readonly AffineModel _first, _second;
    private readonly GradientOptimizer _firstStep, _secondStep;
    private readonly double[] _firstGradient, _secondGradient;

    /// <summary>Creates the network inputs → hidden (ReLU) → outputs, seeded, with Adam at <paramref name="learningRate"/>.</summary>
    public TwoLayerNetwork(int inputs, int hidden, int outputs, int seed, double learningRate)
    {
        MlpModel initial = MlpModel.Random(inputs, [hidden], outputs, seed);
        _first = (AffineModel)initial.Layers[0].Clone();
        _second = (AffineModel)initial.Layers[1].Clone();
        _firstGradient = new double[_first.Parameters.Length];
        _secondGradient = new double[_second.Parameters.Length];
        _firstStep = new GradientOptimizer(GradientOptimizerKind.Adam, learningRate, _firstGradient.Length);
        _secondStep = new GradientOptimizer(GradientOptimizerKind.Adam, learningRate, _secondGradient.Length);
    }

    /// <summary>Inputs per row.</summary>
    public int Inputs => _first.Features;

    /// <summary>Outputs per row.</summary>
    public int Outputs => _second.Outputs;

    /// <summary>Scores a batch <c>[b × Inputs]</c> into <c>[b × Outputs]</c>.</summary>
    public void Score(ReadOnlySpan<float> x, Span<float> output) => _second.Score(Hidden(x), output);

    /// <summary>
    /// Back-propagates the gradient of the loss with respect to the outputs (already divided by the batch size for a mean
    /// loss), keeps the parameters' gradient for <see cref="Step"/> and, when <paramref name="inputGradient"/> is not
    /// empty, writes the gradient with respect to the inputs.
    /// </summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, Span<float> inputGradient)
    {
        float[] hidden = Hidden(x);
        var hiddenGradient = new float[hidden.Length];
        _second.BackwardInto(hidden, outputGradient, _secondGradient, hiddenGradient);
        for (int i = 0; i < hidden.Length; i++) if (hidden[i] <= 0) hiddenGradient[i] = 0;   // ReLU′
        _first.BackwardInto(x, hiddenGradient, _firstGradient, inputGradient);
    }

    /// <summary>
    /// For a one-output network, the gradient with respect to one input row of <paramref name="scale"/>·(ŷ − t)², without
    /// touching the parameters' gradient: safe to call from several threads at once (a layer's cotangent function).
    /// </summary>
    public void SquaredErrorInputGradient(ReadOnlySpan<float> x, float target, double scale, Span<float> inputGradient)
    {
        if (Outputs != 1) throw new InvalidOperationException($"The squared error of one output; this network has {Outputs}.");
        int p = Inputs, h = _first.Outputs;
        ReadOnlySpan<float> w1 = _first.Weights, b1 = _first.Bias, w2 = _second.Weights;
        Span<float> hidden = h <= 256 ? stackalloc float[h] : new float[h];
        double y = _second.Bias[0];
        for (int k = 0; k < h; k++)
        {
            double a = b1[k];
            for (int j = 0; j < p; j++) a += w1[k * p + j] * (double)x[j];
            hidden[k] = (float)Math.Max(0, a);
            y += w2[k] * (double)hidden[k];
        }
        double gy = scale * 2 * (y - target);
        inputGradient[..p].Clear();
        for (int k = 0; k < h; k++)
        {
            if (hidden[k] <= 0) continue;
            double gk = gy * w2[k];
            for (int j = 0; j < p; j++) inputGradient[j] += (float)(gk * w1[k * p + j]);
        }
    }

    /// <summary>One Adam step of both layers from the last <see cref="Backward"/>.</summary>
    public void Step()
    {
        _firstStep.Step(_first.Parameters, _firstGradient);
        _secondStep.Step(_second.Parameters, _secondGradient);
    }

    private float[] Hidden(ReadOnlySpan<float> x)
    {
        var hidden = new float[x.Length / _first.Features * _first.Outputs];
        _first.Score(x, hidden);
        for (int i = 0; i < hidden.Length; i++) hidden[i] = Math.Max(0f, hidden[i]);
        return hidden;
    }
}
