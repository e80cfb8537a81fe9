using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Threading;

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
    private readonly StructuredLoss _loss;
    private readonly StructuredTrainerOptions _options;
    private readonly int _p, _d;                      // features, first-layer outputs (the scores for the affine model)
    private readonly AffineModel[] _rest;             // an MLP's layers after the first (empty for the affine model)
    private readonly GradientOptimizer[] _restOptimizers;
    private readonly double[][] _restGradients;
    private float[][] _activations = [], _downstream = [];
    private readonly float[] _w, _b;                 // W feature-major (j·d + k), bias
    private float[] _m = [], _v = [];                 // Adam's moments (AdaGrad's accumulator in _v), weights then biases, in single precision
    private readonly int[] _slot, _lastStep;          // feature → slot in the step's gradient (−1: absent); SGD: step of the last decay
    private readonly List<int> _touched = [];
    private double[] _gradient = [];                  // touched features' gradients, slot-major (slot·d + k)
    private readonly double[] _biasGradient;
    private float[] _theta = [], _g = [], _rowLoss = [];
    private int _step;
    private bool _released;
    private TrainingRows? _scratch;
    private float[] _scoreBuffer = [];
    private readonly float[] _biasStep;

    public SparseInputSession(StructuredLoss loss, int featureCount, StructuredTrainerOptions options)
    {
        _loss = loss;
        _options = options;
        _p = featureCount;
        // The dense models' initial draws in their order (weights row by row, then biases), written straight into the
        // feature-major layout, so sparse and dense training start from the same point without a second p × h copy.
        int[] widths = [featureCount, .. options.HiddenLayers, loss.Dimension];
        _d = widths[1];
        if ((long)_p * _d > Array.MaxLength)
        {
            throw new ArgumentException($"A first layer of {_p} features × {_d} outputs has more than {Array.MaxLength} weights.", nameof(featureCount));
        }
        _w = new float[_p * _d];
        _b = new float[_d];
        var random = new System.Random(options.Seed);
        bool mlp = options.HiddenLayers.Count > 0;
        double scale = options.EffectiveInitialWeightScale;
        if (mlp || scale > 0)
        {
            float bound = 1 / MathF.Sqrt(_p);
            for (int k = 0; k < _d; k++)
            {
                for (int j = 0; j < _p; j++) _w[j * _d + k] = mlp ? MlpModel.Uniform(random, bound) : CpuTrainingBackend.InitialWeight(random, scale);
            }
            if (mlp) for (int k = 0; k < _d; k++) _b[k] = MlpModel.Uniform(random, bound);
        }
        _rest = new AffineModel[widths.Length - 2];
        for (int l = 0; l < _rest.Length; l++)
        {
            _rest[l] = new AffineModel(widths[l + 1], widths[l + 2]);
            float bound = 1 / MathF.Sqrt(widths[l + 1]);
            foreach (ref float value in _rest[l].ParameterArray.AsSpan()) value = MlpModel.Uniform(random, bound);
        }
        if (options.Optimizer == GradientOptimizerKind.Adam) _m = new float[_p * _d + _d];
        if (options.Optimizer is GradientOptimizerKind.Adam or GradientOptimizerKind.AdaGrad) _v = new float[_p * _d + _d];   // AdaGrad's accumulator
        _slot = new int[_p];
        Array.Fill(_slot, -1);
        _lastStep = options.Optimizer == GradientOptimizerKind.Sgd && options.L2Regularization > 0 ? new int[_p] : [];
        _biasGradient = new double[_d];
        _biasStep = new float[_d];
        _restOptimizers = _rest.Select(l => new GradientOptimizer(options.Optimizer, options.LearningRate, l.ParameterArray.Length)).ToArray();
        _restGradients = _rest.Select(l => new double[l.ParameterArray.Length]).ToArray();
    }

    public double Step(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, ulong draw) =>
        Step(Sparse(features, targets, weights), draw);

    public double Loss(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ulong draw) => Loss(Sparse(features, targets, default), draw);

    // Dense rows given as spans, stored sparse in a reused block.
    private TrainingRows Sparse(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights)
    {
        int b = Guard.RowCount(features.Length, _p, nameof(features)), t = _loss.TargetWidth(targets.Length, b, nameof(targets));
        if (_scratch is null || _scratch.HasWeights != !weights.IsEmpty || _scratch.TargetDimension != t) _scratch = new TrainingRows(_p, t, isSparse: true, hasWeights: !weights.IsEmpty);
        _scratch.Clear();
        for (int r = 0; r < b; r++) _scratch.Add(features.Slice(r * _p, _p), targets.Slice(r * t, t), weights.IsEmpty ? 1 : weights[r]);
        return _scratch;
    }

    public double Step(TrainingRows batch, ulong draw)
    {
        if (_released) throw new InvalidOperationException("This session has returned its result; start a new one to train again.");
        Touch(batch);
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
            for (int i = 0; i < weights; i++) gradient[i] += _options.L2Regularization * w[i];
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
        // Dense rows (a caller's validation set) are stored sparse first: one scoring path.
        Score(rows.IsSparse ? rows : Sparse(rows.DenseFeatures, rows.Targets, default), theta);
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

    private void Score(TrainingRows rows, Span<float> theta)
    {
        if (_scoreBuffer.Length < theta.Length) _scoreBuffer = new float[theta.Length];
        RowBatch.Run(rows.Count, _options.MaxDegreeOfParallelism, (this, rows), static (in (SparseInputSession Session, TrainingRows Rows) b, int start, int end)
            => b.Session.ScoreRows(b.Rows, start, end), minRowsPerChunk: 8);
        _scoreBuffer.AsSpan(0, theta.Length).CopyTo(theta);
    }

    // The features present in the batch get a slot in the step's gradient; with SGD and L2 their skipped decay is applied
    // now, before they score.
    private void Touch(TrainingRows batch)
    {
        ReadOnlySpan<int> indices = batch.Indices;
        _touched.Clear();
        for (int i = 0; i < indices.Length; i++)
        {
            int j = indices[i];
            if (_slot[j] < 0)
            {
                _slot[j] = _touched.Count;
                _touched.Add(j);
                if (_lastStep.Length > 0) Decay(j, _step);
            }
        }
    }

    // Sums the batch's gradient over the features it holds: slot s of feature j gets Σᵣ gᵣ xᵣⱼ, rows ascending.
    private void Gather(TrainingRows batch, ReadOnlySpan<float> g)
    {
        int d = _d;
        ReadOnlySpan<int> starts = batch.RowStarts, indices = batch.Indices;
        ReadOnlySpan<float> values = batch.Values;
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
        bool adam = _options.Optimizer == GradientOptimizerKind.Adam;
        float stepSize = adam ? (float)(_options.LearningRate / (1 - Math.Pow(GradientOptimizer.Beta1, _step))) : 0;
        float inverseC2 = adam ? (float)(1 / (1 - Math.Pow(GradientOptimizer.Beta2, _step))) : 0;
        RowBatch.Run(_touched.Count, _options.MaxDegreeOfParallelism, new FeatureUpdate(this, batch, stepSize, inverseC2),
            static (in FeatureUpdate u, int start, int end) => u.Session.UpdateFeatures(start, end, u), minRowsPerChunk: 64);
        foreach (int j in _touched)
        {
            ReadOnlySpan<float> wj = _w.AsSpan(j * d, d);
            int bad = wj.IndexOfAnyExceptInRange(float.MinValue, float.MaxValue);
            if (bad >= 0) throw new TrainingDivergedException($"the weight of feature {j}, output {bad} overflowed ({wj[bad]}).");
            _slot[j] = -1;
            if (_lastStep.Length > 0) _lastStep[j] = _step;
        }
        if (adam || _options.Optimizer == GradientOptimizerKind.AdaGrad)
        {
            for (int k = 0; k < d; k++) _biasStep[k] = (float)(_biasGradient[k] / batch);
            if (adam) SingleUpdates.Adam(_b, _m.AsSpan(_p * d, d), _v.AsSpan(_p * d, d), _biasStep, stepSize, inverseC2);
            else SingleUpdates.AdaGrad(_b, _v.AsSpan(_p * d, d), _biasStep, (float)_options.LearningRate);
        }
        else
        {
            for (int k = 0; k < d; k++) _b[k] -= (float)(_options.LearningRate * (_biasGradient[k] / batch));
        }
        int badBias = _b.AsSpan().IndexOfAnyExceptInRange(float.MinValue, float.MaxValue);
        if (badBias >= 0) throw new TrainingDivergedException($"the bias of output {badBias} overflowed ({_b[badBias]}).");
    }

    // SGD with L2: the decay of the steps feature j skipped, up to step `upTo`.
    private void Decay(int j, int upTo)
    {
        int skipped = upTo - _lastStep[j];
        if (skipped <= 0) return;
        float factor = (float)Math.Pow(1 - _options.LearningRate * _options.L2Regularization, skipped);
        foreach (ref float w in _w.AsSpan(j * _d, _d)) w *= factor;
        _lastStep[j] = upTo;
    }

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
        // The optimizer's state is done with (the loop asks for the result last): let it go before the result's copy.
        _m = [];
        _v = [];
        _released = true;
        var first = new AffineModel(_p, _d);   // filled in place: one p × h copy, not two
        Span<float> parameters = first.ParameterArray;
        for (int j = 0; j < _p; j++)
        {
            for (int k = 0; k < _d; k++) parameters[k * _p + j] = _w[j * _d + k];
        }
        _b.CopyTo(parameters[(_p * _d)..]);
        return _rest.Length == 0 ? first : new MlpModel([first, .. _rest]);
    }

    public void Dispose()
    {
    }

    /// <summary>Scores sparse rows [start, end) (run in parallel: each row from its own stored values, the same bits on any thread).</summary>
    private void ScoreRows(TrainingRows rows, int start, int end)
    {
        int d = _d;
        ReadOnlySpan<int> starts = rows.RowStarts, indices = rows.Indices;
        ReadOnlySpan<float> values = rows.Values, w = _w, b = _b;
        double[]? rented = d > 256 ? System.Buffers.ArrayPool<double>.Shared.Rent(d) : null;
        Span<double> acc = rented is null ? stackalloc double[d] : rented.AsSpan(0, d);
        for (int r = start; r < end; r++)
        {
            acc.Clear();
            for (int i = starts[r]; i < starts[r + 1]; i++) SpanMath.AddScaled(acc, w.Slice(indices[i] * d, d), values[i]);
            Span<float> theta = _scoreBuffer.AsSpan(r * d, d);
            for (int k = 0; k < d; k++) theta[k] = (float)(acc[k] + b[k]);
        }
        if (rented is not null) System.Buffers.ArrayPool<double>.Shared.Return(rented);
    }

    /// <summary>One step's update: the mini-batch size and Adam's bias-corrected step size and 1/(1 − β₂ᵗ).</summary>
    private readonly record struct FeatureUpdate(SparseInputSession Session, int Batch, float StepSize, float InverseC2);

    /// <summary>Updates present features [start, end) of <see cref="_touched"/> (run in parallel: each feature's row on its own, the same bits on any thread).</summary>
    private void UpdateFeatures(int start, int end, in FeatureUpdate u)
    {
        int d = _d;
        double lr = _options.LearningRate, l2 = _options.L2Regularization;
        GradientOptimizerKind kind = _options.Optimizer;
        float[]? rented = d > 1024 ? System.Buffers.ArrayPool<float>.Shared.Rent(d) : null;
        Span<float> step = rented is null ? stackalloc float[d] : rented.AsSpan(0, d);
        for (int t = start; t < end; t++)
        {
            int j = _touched[t];
            ReadOnlySpan<double> gj = _gradient.AsSpan(_slot[j] * d, d);
            Span<float> wj = _w.AsSpan(j * d, d);
            if (kind == GradientOptimizerKind.Sgd)
            {
                for (int k = 0; k < d; k++) wj[k] -= (float)(lr * (gj[k] / u.Batch + l2 * wj[k]));
                continue;
            }
            for (int k = 0; k < d; k++) step[k] = (float)(gj[k] / u.Batch + l2 * wj[k]);
            if (kind == GradientOptimizerKind.Adam) SingleUpdates.Adam(wj, _m.AsSpan(j * d, d), _v.AsSpan(j * d, d), step, u.StepSize, u.InverseC2);
            else SingleUpdates.AdaGrad(wj, _v.AsSpan(j * d, d), step, (float)lr);
        }
        if (rented is not null) System.Buffers.ArrayPool<float>.Shared.Return(rented);
    }
}
