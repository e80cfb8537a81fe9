namespace Microsoft.ML.Perturbed.Training;

/// <summary>Updates a flat parameter vector from its gradient: SGD, Adam or AdaGrad (the gradient carries any L2 term).</summary>
internal sealed class GradientOptimizer
{
    /// <summary>Adam's β₁, β₂ and ε̂, and AdaGrad's ε (the dense and the sparse steps share them).</summary>
    internal const double Beta1 = 0.9, Beta2 = 0.999, AdamEpsilon = 1e-8, AdaGradEpsilon = 1e-10;
    private readonly GradientOptimizerKind _kind;
    private readonly double _learningRate;
    private readonly double[] _m, _v;
    private int _step;

    public GradientOptimizer(GradientOptimizerKind kind, double learningRate, int parameters)
    {
        _kind = kind;
        _learningRate = learningRate;
        Check.Defined(kind, nameof(kind));
        _m = kind == GradientOptimizerKind.Adam ? new double[parameters] : [];
        _v = kind is GradientOptimizerKind.Adam or GradientOptimizerKind.AdaGrad ? new double[parameters] : [];
    }

    /// <summary>One step: parameters −= update(gradient). The gradient buffer is left unchanged.</summary>
    public void Step(Span<float> parameters, ReadOnlySpan<double> gradient)
    {
        _step++;
        if (_kind == GradientOptimizerKind.Sgd)
        {
            for (int i = 0; i < parameters.Length; i++) parameters[i] -= (float)(_learningRate * gradient[i]);
            return;
        }
        if (_kind == GradientOptimizerKind.AdaGrad)
        {
            for (int i = 0; i < parameters.Length; i++)
            {
                double g = gradient[i];
                _v[i] += g * g;
                parameters[i] -= (float)(_learningRate * g / (Math.Sqrt(_v[i]) + AdaGradEpsilon));
            }
            return;
        }
        // Adam with bias-corrected moments.
        double c1 = 1 - Math.Pow(Beta1, _step), c2 = 1 - Math.Pow(Beta2, _step);
        for (int i = 0; i < parameters.Length; i++)
        {
            double g = gradient[i];
            _m[i] = Beta1 * _m[i] + (1 - Beta1) * g;
            _v[i] = Beta2 * _v[i] + (1 - Beta2) * g * g;
            parameters[i] -= (float)(_learningRate * (_m[i] / c1) / (Math.Sqrt(_v[i] / c2) + AdamEpsilon));
        }
    }
}
