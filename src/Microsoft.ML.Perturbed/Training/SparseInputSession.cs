using Microsoft.ML.Perturbed.Data;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// The managed step on sparse rows (docs/architecture.md, "Data sources and sparse training"): the first affine layer
/// scores zᵣ = Σ_{j ∈ row} xⱼ Wⱼ + b over the row's stored values only, and its update touches only the weights of the
/// features present in the batch. For an MLP the hidden layers after it (ReLU between) are dense and small, trained as on
/// dense rows. First-layer weights are held feature-major (p × h: a feature's h weights side by side, one cache line for a
/// stored value) and returned as an ordinary <see cref="AffineModel"/> (or the first layer of an <see cref="MlpModel"/>).
/// Memory: the model and its optimizer state, plus O(batch × non-zeros) per step — nothing grows with the number of rows.
/// <para>
/// Updates are lazy. SGD is the dense algorithm: a weight whose feature is absent has a zero loss gradient, and its L2
/// decay over the steps it skipped, (1 − ηλ)^k, is applied when the feature next appears (and before validation,
/// snapshots and the result). Adam updates the moments and weights of present features only (TensorFlow's LazyAdam), with
/// the bias correction of the global step; it equals dense Adam when every feature is present in every batch, and
/// otherwise differs in that an absent feature's weights do not coast on their momentum. L2 with Adam acts on the weights
/// of the features present in the step.
/// </para>
/// </summary>
internal sealed class SparseInputSession : ITrainingSession
{
    private const double Beta1 = 0.9, Beta2 = 0.999, AdamEpsilon = 1e-8;
    private readonly StructuredLoss _loss;
    private readonly StructuredTrainerOptions _options;
    private readonly int _p, _d;                      // features, first-layer outputs (the scores for the affine model)
    private readonly AffineModel[] _rest;             // an MLP's layers after the first (empty for the affine model)
    private readonly GradientOptimizer[] _restOptimizers;
    private readonly double[][] _restGradients;
    private float[][] _activations = [], _downstream = [];
    private readonly float[] _w, _b;                 // W feature-major (j·d + k), bias
    private readonly double[] _m = [], _v = [];      // Adam moments, weights then biases
    private readonly int[] _slot, _lastStep;          // feature → slot in the step's gradient (−1: absent); SGD: step of the last decay
    private readonly List<int> _touched = [];
    private double[] _gradient = [];                  // touched features' gradients, slot-major (slot·d + k)
    private readonly double[] _biasGradient;
    private float[] _theta = [], _g = [], _rowLoss = [];
    private readonly double[] _row;
    private int _step;
    private TrainingRows? _scratch;

    public SparseInputSession(StructuredLoss loss, int featureCount, StructuredTrainerOptions options)
    {
        _loss = loss;
        _options = options;
        _p = featureCount;
        AffineModel first;
        if (options.HiddenLayers.Count > 0)
        {
            // The dense MLP's initial point (the same seeded draw), so sparse and dense training start together.
            IReadOnlyList<AffineModel> layers = MlpModel.Random(featureCount, options.HiddenLayers, loss.Dimension, options.Seed).Layers;
            first = layers[0];
            _rest = layers.Skip(1).Select(l => (AffineModel)l.Clone()).ToArray();
        }
        else
        {
            first = CpuTrainingBackend.InitialAffine(_p, loss.Dimension, options.EffectiveInitialWeightScale, options.Seed);
            _rest = [];
        }
        _d = first.Outputs;
        if ((long)_p * _d > Array.MaxLength)
        {
            throw new ArgumentException($"A first layer of {_p} features × {_d} outputs has more than {Array.MaxLength} weights.", nameof(featureCount));
        }
        _w = new float[_p * _d];
        ReadOnlySpan<float> weights = first.Weights;
        for (int k = 0; k < _d; k++)
        {
            for (int j = 0; j < _p; j++) _w[j * _d + k] = weights[k * _p + j];
        }
        _b = first.Bias.ToArray();
        if (options.Optimizer == GradientOptimizerKind.Adam)
        {
            _m = new double[_p * _d + _d];
            _v = new double[_p * _d + _d];
        }
        _slot = new int[_p];
        Array.Fill(_slot, -1);
        _lastStep = options.Optimizer == GradientOptimizerKind.Sgd && options.L2 > 0 ? new int[_p] : [];
        _biasGradient = new double[_d];
        _row = new double[_d];
        _restOptimizers = _rest.Select(l => new GradientOptimizer(options.Optimizer, options.LearningRate, l.ParameterArray.Length)).ToArray();
        _restGradients = _rest.Select(l => new double[l.ParameterArray.Length]).ToArray();
    }

    public double Step(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, ulong draw) =>
        Step(Sparse(features, targets, weights), draw);

    public double Loss(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ulong draw) => Loss(Sparse(features, targets, default), draw);

    // Dense rows given as spans, stored sparse in a reused block.
    private TrainingRows Sparse(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights)
    {
        int b = Guard.RowCount(features.Length, _p, nameof(features)), t = _loss.TargetDimension;
        Guard.Rows(targets.Length, b, t, nameof(targets));
        if (_scratch is null || _scratch.HasWeights != !weights.IsEmpty) _scratch = new TrainingRows(_p, t, isSparse: true, hasWeights: !weights.IsEmpty);
        _scratch.Clear();
        for (int r = 0; r < b; r++) _scratch.Add(features.Slice(r * _p, _p), targets.Slice(r * t, t), weights.IsEmpty ? 1 : weights[r]);
        return _scratch;
    }

    public double Step(TrainingRows batch, ulong draw)
    {
        double mean = Evaluate(batch, draw);
        int b = batch.Count, outputs = _loss.Dimension;
        Span<float> g = _g.AsSpan(0, b * outputs);
        if (batch.HasWeights) mean = StructuredTrainer.Weigh(g, _rowLoss.AsSpan(0, b), batch.Weights, outputs);
        _step++;
        ReadOnlySpan<float> first = _rest.Length == 0 ? g : BackwardRest(b, g);
        Gather(batch, first);
        Update(b);
        return mean;
    }

    // An MLP's dense layers after the first, back to front (their updates as on dense rows); returns the gradient of the
    // first layer's pre-activations (ReLU′ applied).
    private ReadOnlySpan<float> BackwardRest(int batch, ReadOnlySpan<float> g)
    {
        for (int l = _rest.Length - 1; l >= 0; l--)
        {
            AffineModel layer = _rest[l];
            Span<float> down = _downstream[l].AsSpan(0, batch * layer.Features);
            ReadOnlySpan<float> input = _activations[l].AsSpan(0, batch * layer.Features);
            Span<double> gradient = _restGradients[l];
            layer.BackwardInto(input, g, gradient, down);
            int weights = layer.Outputs * layer.Features;
            ReadOnlySpan<float> w = layer.Weights;
            for (int i = 0; i < gradient.Length; i++) gradient[i] /= batch;
            for (int i = 0; i < weights; i++) gradient[i] += _options.L2 * w[i];
            _restOptimizers[l].Step(layer.ParameterArray, gradient);
            StructuredTrainer.CheckParameters(layer.ParameterArray);
            for (int i = 0; i < down.Length; i++) if (input[i] <= 0) down[i] = 0;   // ReLU′ of the layer below
            g = down;
        }
        return g;
    }

    public double Loss(TrainingRows rows, ulong draw)
    {
        CatchUp();
        return Evaluate(rows, draw);
    }

    private double Evaluate(TrainingRows rows, ulong draw)
    {
        int b = rows.Count, d = _d, outputs = _loss.Dimension;
        if (_rowLoss.Length < b)
        {
            _theta = new float[b * outputs];
            _g = new float[b * outputs];
            _rowLoss = new float[b];
            _activations = _rest.Select(l => new float[b * l.Features]).ToArray();
            _downstream = _rest.Select(l => new float[b * l.Features]).ToArray();
        }
        Span<float> theta = _rest.Length == 0 ? _theta.AsSpan(0, b * d) : _activations[0].AsSpan(0, b * d);
        if (rows.IsSparse)
        {
            Score(rows.RowStarts, rows.Indices, rows.Values, theta);
        }
        else
        {
            // Dense validation rows: their non-zeros, in slot order.
            ReadOnlySpan<float> x = rows.DenseFeatures;
            for (int r = 0; r < b; r++)
            {
                Span<double> acc = _row;
                acc.Clear();
                ReadOnlySpan<float> xr = x.Slice(r * _p, _p);
                for (int j = 0; j < _p; j++)
                {
                    if (xr[j] != 0) SpanMath.AddScaled(acc, _w.AsSpan(j * d, d), xr[j]);
                }
                for (int k = 0; k < d; k++) theta[r * d + k] = (float)(acc[k] + _b[k]);
            }
        }
        if (_rest.Length > 0)
        {
            // ReLU, then the dense layers, keeping each layer's input for the backward pass.
            for (int i = 0; i < theta.Length; i++) theta[i] = Math.Max(0f, theta[i]);
            for (int l = 0; l < _rest.Length; l++)
            {
                ReadOnlySpan<float> input = _activations[l].AsSpan(0, b * _rest[l].Features);
                Span<float> output = l == _rest.Length - 1 ? _theta.AsSpan(0, b * outputs) : _activations[l + 1].AsSpan(0, b * _rest[l].Outputs);
                _rest[l].Score(input, output);
                if (l < _rest.Length - 1) for (int i = 0; i < output.Length; i++) output[i] = Math.Max(0f, output[i]);
            }
            theta = _theta.AsSpan(0, b * outputs);
        }
        StructuredTrainer.CheckScores(theta);
        return StructuredTrainer.CheckLoss(_loss.Evaluate(theta, rows.Targets, _rowLoss.AsSpan(0, b), _g.AsSpan(0, b * outputs), draw));
    }

    private void Score(ReadOnlySpan<int> starts, ReadOnlySpan<int> indices, ReadOnlySpan<float> values, Span<float> theta)
    {
        int d = _d;
        for (int r = 0; r + 1 < starts.Length; r++)
        {
            Span<double> acc = _row;
            acc.Clear();
            for (int i = starts[r]; i < starts[r + 1]; i++)
            {
                int j = indices[i];
                if (_lastStep.Length > 0) Decay(j);
                SpanMath.AddScaled(acc, _w.AsSpan(j * d, d), values[i]);
            }
            for (int k = 0; k < d; k++) theta[r * d + k] = (float)(acc[k] + _b[k]);
        }
    }

    // Sums the batch's gradient over the features it holds: slot s of feature j gets Σᵣ gᵣ xᵣⱼ, rows ascending.
    private void Gather(TrainingRows batch, ReadOnlySpan<float> g)
    {
        int d = _d;
        ReadOnlySpan<int> starts = batch.RowStarts, indices = batch.Indices;
        ReadOnlySpan<float> values = batch.Values;
        _touched.Clear();
        for (int i = 0; i < indices.Length; i++)
        {
            int j = indices[i];
            if (_slot[j] < 0)
            {
                _slot[j] = _touched.Count;
                _touched.Add(j);
            }
        }
        int needed = _touched.Count * d;
        if (_gradient.Length < needed) _gradient = new double[Math.Max(needed, 2 * _gradient.Length)];
        Span<double> gradient = _gradient.AsSpan(0, needed);
        gradient.Clear();
        Array.Clear(_biasGradient);
        for (int r = 0; r < batch.Count; r++)
        {
            ReadOnlySpan<float> gr = g.Slice(r * d, d);
            for (int i = starts[r]; i < starts[r + 1]; i++)
            {
                SpanMath.AddScaled(gradient.Slice(_slot[indices[i]] * d, d), gr, values[i]);
            }
            for (int k = 0; k < d; k++) _biasGradient[k] += gr[k];
        }
    }

    private void Update(int batch)
    {
        int d = _d;
        double lr = _options.LearningRate, l2 = _options.L2;
        bool adam = _options.Optimizer == GradientOptimizerKind.Adam;
        double c1 = adam ? 1 - Math.Pow(Beta1, _step) : 1, c2 = adam ? 1 - Math.Pow(Beta2, _step) : 1;
        foreach (int j in _touched)
        {
            if (_lastStep.Length > 0)
            {
                Decay(j, _step - 1);
                _lastStep[j] = _step;
            }
            Span<double> gj = _gradient.AsSpan(_slot[j] * d, d);
            Span<float> wj = _w.AsSpan(j * d, d);
            for (int k = 0; k < d; k++)
            {
                double gk = gj[k] / batch + l2 * wj[k];
                wj[k] = adam ? AdamStep(wj[k], gk, j * d + k, lr, c1, c2) : wj[k] - (float)(lr * gk);
                if (!float.IsFinite(wj[k])) throw new TrainingDivergedException($"the weight of feature {j}, output {k} overflowed ({wj[k]}).");
            }
            _slot[j] = -1;
        }
        for (int k = 0; k < d; k++)
        {
            double gk = _biasGradient[k] / batch;
            _b[k] = adam ? AdamStep(_b[k], gk, _p * d + k, lr, c1, c2) : _b[k] - (float)(lr * gk);
            if (!float.IsFinite(_b[k])) throw new TrainingDivergedException($"the bias of output {k} overflowed ({_b[k]}).");
        }
    }

    private float AdamStep(float w, double g, int i, double lr, double c1, double c2)
    {
        _m[i] = Beta1 * _m[i] + (1 - Beta1) * g;
        _v[i] = Beta2 * _v[i] + (1 - Beta2) * g * g;
        return w - (float)(lr * (_m[i] / c1) / (Math.Sqrt(_v[i] / c2) + AdamEpsilon));
    }

    // SGD with L2: the decay of the steps feature j skipped, up to step `upTo`.
    private void Decay(int j, int upTo)
    {
        int skipped = upTo - _lastStep[j];
        if (skipped <= 0) return;
        float factor = (float)Math.Pow(1 - _options.LearningRate * _options.L2, skipped);
        foreach (ref float w in _w.AsSpan(j * _d, _d)) w *= factor;
        _lastStep[j] = upTo;
    }

    private void Decay(int j) => Decay(j, _step);

    private void CatchUp()
    {
        for (int j = 0; j < _lastStep.Length; j++) Decay(j, _step);
    }

    public object Snapshot()
    {
        CatchUp();
        return new[] { (float[])_w.Clone(), (float[])_b.Clone() }.Concat(_rest.Select(l => l.ParameterArray.ToArray())).ToArray();
    }

    public void Restore(object snapshot)
    {
        var parts = (float[][])snapshot;
        parts[0].CopyTo(_w, 0);
        parts[1].CopyTo(_b, 0);
        for (int l = 0; l < _rest.Length; l++) parts[l + 2].CopyTo(_rest[l].ParameterArray, 0);
        if (_lastStep.Length > 0) Array.Fill(_lastStep, _step);
    }

    public ITrainableModel Result()
    {
        CatchUp();
        var weights = new float[_p * _d];
        for (int j = 0; j < _p; j++)
        {
            for (int k = 0; k < _d; k++) weights[k * _p + j] = _w[j * _d + k];
        }
        var first = new AffineModel(weights, _b);
        return _rest.Length == 0 ? first : new MlpModel([first, .. _rest]);
    }

    public void Dispose()
    {
    }
}
