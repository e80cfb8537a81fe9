using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Perturbed.TorchSharp;

/// <summary>
/// Runs the steps of the one training loop (<see cref="StructuredTrainer"/>) with TorchSharp on a device (GPU when
/// selected): an affine model or an MLP (hidden layers with ReLU) and its optimizer (TorchSharp's Adam or SGD) on the
/// device. Returns managed <see cref="AffineModel"/>/<see cref="MlpModel"/> weights, so saved models score without
/// TorchSharp. Set it as <c>Backend</c> in a trainer's options, or pass it to <c>StructuredTrainer.Fit</c>.
/// </summary>
/// <remarks>
/// <para>The loss: the Fenchel-Young and perturbed + squared losses of the argmax, top-k, ranking and matching heads, and
/// the squared loss of the scores, run on the device (<see cref="PerturbedAutograd"/>); every other loss — blackbox,
/// identity with projection, SPO+, direct loss, a user's loss or head — runs the core's loss on the host through
/// <see cref="PerturbedAutograd.Loss"/>, so every method trains here too.</para>
/// <para>Initialization, L2 (λ·W on the weights, not the biases), epochs, shuffles, early stopping and divergence checks
/// are the CPU trainer's (one loop, one set of option checks). Results are bit for bit the same for a seed on the CPU,
/// whatever torch's thread count (tested); GPU kernels may differ in the last bits.</para>
/// </remarks>
/// <param name="device">Where to train; default the CPU. See <see cref="TorchDevice.Select"/>.</param>
/// <param name="hiddenLayers">Widths of the hidden layers; empty (default) uses the options' <c>HiddenLayers</c>.</param>
public sealed class TorchTrainingBackend(Device? device = null, params int[] hiddenLayers) : IStructuredTrainingBackend
{
    /// <summary>
    /// The backend on the device an <see cref="MLContext"/> asks for: its <c>GpuDeviceId</c> (null: CPU) and
    /// <c>FallbackToCpu</c> (whether a missing GPU falls back to the CPU or throws).
    /// </summary>
    /// <exception cref="InvalidOperationException">A GPU is required and none is available.</exception>
    public static TorchTrainingBackend ForContext(MLContext mlContext, params int[] hiddenLayers)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new TorchTrainingBackend(TorchDevice.Select(mlContext.GpuDeviceId, mlContext.FallbackToCpu), hiddenLayers);
    }

    /// <summary>The training device.</summary>
    public Device Device { get; } = device ?? CPU;

    /// <summary>Hidden layer widths (empty: those of the options).</summary>
    public IReadOnlyList<int> HiddenLayers { get; } = hiddenLayers.ToArray();

    /// <summary>
    /// Whether the losses that have a device version (Fenchel-Young and perturbed + squared over argmax, top-k, ranking and
    /// matching; the squared loss of scores) run it on <see cref="Device"/>, or run the core loss on the host with only the
    /// model in libtorch. Null (default): on the device for a GPU, on the host for the CPU, where the core's perturbation
    /// (sorting networks, vectorized noise) is faster than libtorch's batched sort and sampling — 1.15–3.2× the managed
    /// trainer's time per row for the affine model instead of 1.0–6.7× (bench/results/backends.md).
    /// </summary>
    public bool? LossOnDevice { get; init; }

    /// <summary>Trains with this backend through the one training loop (the arguments of <c>StructuredTrainer.Fit</c>).</summary>
    internal IScoreModel Train(Oracle head, ReadOnlySpan<float> features, ReadOnlySpan<float> targets, int featureCount, StructuredTrainerOptions options,
        ReadOnlySpan<float> validationFeatures = default, ReadOnlySpan<float> validationTargets = default, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
        => StructuredTrainer.Fit(head, features, targets, featureCount, options, validationFeatures, validationTargets, progress, cancellationToken, this);

    /// <inheritdoc/>
    ITrainingSession IStructuredTrainingBackend.Start(Oracle head, StructuredLoss loss, int featureCount, StructuredTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        for (int i = 0; i < HiddenLayers.Count; i++)
        {
            if (HiddenLayers[i] < 1) throw new ArgumentOutOfRangeException(nameof(hiddenLayers), HiddenLayers[i], $"Hidden layer widths must be at least 1; hiddenLayers[{i}] is {HiddenLayers[i]}.");
        }
        if (options.ModelFactory is not null)
        {
            throw new NotSupportedException($"The TorchSharp backend trains the affine model and MLPs only; a '{nameof(options.ModelFactory)}' model trains on the managed CPU backend (the default).");
        }
        LibTorchRuntime.EnsureLoaded();
        var settings = new StructuredTrainerOptions
        {
            Loss = options.Loss, LossFactory = options.LossFactory, Seed = options.Seed, InitialWeightScale = options.InitialWeightScale,
            HiddenLayers = HiddenLayers.Count > 0 ? HiddenLayers : options.HiddenLayers,
        };
        // The same initial parameters as the CPU step, so both backends start from one point.
        ITrainableModel initial = CpuTrainingBackend.Instance.Start(head, loss, featureCount, settings).Result();
        return new Session(this, head, loss, options, initial);
    }

    /// <summary>
    /// The device version of a core loss where there is one, else null (the loss then runs on the host): the loss says what
    /// it is (<see cref="StructuredLoss.DeviceForm"/>) and the head which kernel solves it (<see cref="Oracle.DeviceKernel"/>).
    /// </summary>
    private Func<Tensor, Tensor, ulong, Tensor>? DeviceLoss(Oracle head, StructuredLoss loss)
    {
        if (!(LossOnDevice ?? Device.type != DeviceType.CPU)) return null;
        if (loss.DeviceForm is not { } form) return null;
        TorchPerturbedOptimizer? OnDevice(PerturbedOptimizer? o) =>
            o is not null && head.DeviceKernel is { } kernel && ReferenceEquals(o.Oracle, head) && o.Noise is NormalNoise or GumbelNoise
            && o.Perturbation == PerturbationKind.Additive && o.VarianceReduction == VarianceReduction.None
                ? new TorchPerturbedOptimizer(kernel.Kind, head.Dimension, new PerturbedOptimizerOptions { Epsilon = o.Epsilon, Samples = o.Samples, Noise = o.Noise, Seed = o.Seed }, Device, kernel.K)
                : null;
        switch (form.Kind)
        {
            case DeviceLossKind.FenchelYoung:
                return OnDevice(form.Optimizer) is { } fy ? (theta, target, draw) => PerturbedAutograd.FenchelYoungLoss(fy, theta, target, draw) : null;
            case DeviceLossKind.PerturbedSquared:
                return OnDevice(form.Optimizer) is { } perturbed
                    ? (theta, target, draw) => 0.5 * (PerturbedAutograd.Perturbed(perturbed, theta, draw) - target).pow(2).sum(-1).mean()
                    : null;
            case DeviceLossKind.SquaredScores:
                return (theta, target, _) => 0.5 * (theta - target).pow(2).sum(-1).mean();
            default:
                throw new ArgumentOutOfRangeException(nameof(loss), form.Kind, $"Unknown {nameof(DeviceLossKind)} value {form.Kind} for the loss {loss.Name}.");
        }
    }

    private sealed class Session : ITrainingSession
    {
        private readonly DisposeScope _scope = NewDisposeScope();
        private readonly Linear[] _linears;
        private readonly nn.Module<Tensor, Tensor> _model;
        private readonly optim.Optimizer _optimizer;
        private readonly Func<Tensor, Tensor, ulong, Tensor> _loss;
        private readonly StructuredLoss _coreLoss;
        private readonly Device _device;
        private readonly double _l2;
        private readonly int _features, _outputs, _targets, _encodedTargets;

        public Session(TorchTrainingBackend backend, Oracle head, StructuredLoss loss, StructuredTrainerOptions options, ITrainableModel initial)
        {
            _device = backend.Device;
            _l2 = options.L2Regularization;
            _features = initial.Features;
            _outputs = loss.Dimension;
            _targets = loss.TargetDimension;
            _encodedTargets = loss.EncodedTargetDimension;
            random.manual_seed(options.Seed);
            IReadOnlyList<AffineModel> layers = initial is MlpModel mlp ? mlp.Layers : [(AffineModel)initial];
            _linears = layers.Select(l => nn.Linear(l.Features, l.Outputs)).ToArray();
            using (no_grad())
            {
                for (int i = 0; i < layers.Count; i++)
                {
                    _linears[i].weight!.copy_(tensor(layers[i].Weights.ToArray(), [layers[i].Outputs, layers[i].Features]));
                    _linears[i].bias!.copy_(tensor(layers[i].Bias.ToArray(), [layers[i].Outputs]));
                }
            }
            _model = nn.Sequential(_linears.SelectMany((layer, i) => i < _linears.Length - 1
                ? new (string, nn.Module<Tensor, Tensor>)[] { ($"linear{i}", layer), ($"relu{i}", nn.ReLU()) }
                : new (string, nn.Module<Tensor, Tensor>)[] { ($"linear{i}", layer) }).ToArray());
            _model.to(_device);
            _optimizer = options.Optimizer switch
            {
                GradientOptimizerKind.Adam => optim.Adam(_model.parameters(), lr: options.LearningRate),
                GradientOptimizerKind.Sgd => optim.SGD(_model.parameters(), options.LearningRate),
                GradientOptimizerKind.AdaGrad => optim.Adagrad(_model.parameters(), options.LearningRate, eps: 1e-10),
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "Unknown optimizer."),
            };
            _coreLoss = loss;
            _loss = backend.DeviceLoss(head, loss) ?? ((theta, target, draw) => PerturbedAutograd.Loss(loss, theta, target, draw));
        }

        public double Step(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, ulong draw)
        {
            int rows = CheckRows(features.Length, targets.Length);
            if (!weights.IsEmpty && weights.Length != rows)
            {
                throw new ArgumentException($"Expected 'weights' empty or one per row ({rows}), got {weights.Length}.", nameof(weights));
            }
            using var scope = NewDisposeScope();
            return Update(Dense(features), Targets(targets, features.Length / _features), weights.IsEmpty ? null : weights.ToArray(), draw);
        }

        /// <summary>A sparse batch goes to the device as a sparse COO tensor; the first layer multiplies it (never densified to p columns).</summary>
        public double Step(TrainingRows batch, ulong draw)
        {
            using var scope = NewDisposeScope();
            return Update(Input(batch), Targets(batch.Targets, batch.Count), batch.HasWeights ? batch.Weights.ToArray() : null, draw);
        }

        public double Loss(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ulong draw)
        {
            CheckRows(features.Length, targets.Length);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return Finite(LossOf(Dense(features), Targets(targets, features.Length / _features), null, draw).item<float>());
        }

        public double Loss(TrainingRows rows, ulong draw)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return Finite(LossOf(Input(rows), Targets(rows.Targets, rows.Count), null, draw).item<float>());
        }

        private double Update(Tensor x, Tensor y, float[]? weights, ulong draw)
        {
            _optimizer.zero_grad();
            // Weighted rows go through the host loss (its gradient is weighted there); the device losses average rows equally.
            Tensor loss = LossOf(x, y, weights, draw);
            loss.backward();
            using (no_grad())
            {
                // L2 on the weights only, as on the CPU: gradient + λW.
                if (_l2 > 0) foreach (Linear l in _linears) l.weight!.grad!.add_(l.weight, alpha: _l2);
            }
            _optimizer.step();
            double value = Finite(loss.item<float>());
            foreach (Linear l in _linears)
            {
                if (!isfinite(l.weight!).all().item<bool>() || !isfinite(l.bias!).all().item<bool>())
                    throw new TrainingDivergedException("a parameter overflowed.");
            }
            return value;
        }

        private Tensor LossOf(Tensor x, Tensor y, float[]? weights, ulong draw)
        {
            Tensor theta = Forward(x);
            if (!isfinite(theta).all().item<bool>()) throw new TrainingDivergedException("the model's scores overflowed.");
            return weights is null ? _loss(theta, y, draw) : PerturbedAutograd.Loss(_coreLoss, theta, y, draw, weights);
        }

        // The model: the first layer multiplies a sparse input directly; the layers after it are the dense ones.
        private Tensor Forward(Tensor x)
        {
            if (!x.is_sparse) return _model.forward(x);
            Tensor h = mm(x, _linears[0].weight!.t()) + _linears[0].bias!;
            for (int i = 1; i < _linears.Length; i++) h = _linears[i].forward(nn.functional.relu(h));
            return h;
        }

        /// <summary>The row count of dense <c>[b × p]</c> features and <c>[b × t]</c> targets, naming the buffer whose length does not fit.</summary>
        private int CheckRows(int featureValues, int targetValues)
        {
            if (featureValues == 0 || featureValues % _features != 0)
            {
                throw new ArgumentException($"Expected 'features' as a non-empty [batch × {_features}] buffer, got {featureValues} values.", "features");
            }
            int rows = featureValues / _features;
            if (targetValues != (long)rows * _targets && targetValues != (long)rows * _encodedTargets)
            {
                throw new ArgumentException($"Expected 'targets' of {(long)rows * _targets} values ([{rows} × {_targets}], one row per feature row), got {targetValues}.", "targets");
            }
            return rows;
        }

        private Tensor Dense(ReadOnlySpan<float> features) => tensor(features.ToArray(), [features.Length / _features, _features]).to(_device);

        // [rows × t] with t the loss's target length, or its encoded length (SPO+'s s and y*(s)) when the loop encoded the targets.
        private Tensor Targets(ReadOnlySpan<float> targets, int rows) => tensor(targets.ToArray(), [rows, targets.Length / Math.Max(1, rows)]).to(_device);

        private Tensor Input(TrainingRows rows)
        {
            if (!rows.IsSparse) return Dense(rows.DenseFeatures);
            ReadOnlySpan<int> starts = rows.RowStarts, indices = rows.Indices;
            int nonZeros = indices.Length;
            var coordinates = new long[2 * nonZeros];
            for (int r = 0; r < rows.Count; r++)
            {
                for (int i = starts[r]; i < starts[r + 1]; i++)
                {
                    coordinates[i] = r;
                    coordinates[nonZeros + i] = indices[i];
                }
            }
            return sparse_coo_tensor(tensor(coordinates, [2, nonZeros]), tensor(rows.Values.ToArray(), [nonZeros]), [rows.Count, _features]).to(_device);
        }

        private static double Finite(double loss) => double.IsFinite(loss) ? loss : throw new TrainingDivergedException($"the loss is {loss}.");

        public object Snapshot() => _linears.SelectMany(l => new[] { l.weight!.detach().cpu().data<float>().ToArray(), l.bias!.detach().cpu().data<float>().ToArray() }).ToArray();

        public void Restore(object snapshot)
        {
            var parameters = (float[][])snapshot;
            using var noGrad = no_grad();
            for (int i = 0; i < _linears.Length; i++)
            {
                _linears[i].weight!.copy_(tensor(parameters[2 * i], _linears[i].weight!.shape));
                _linears[i].bias!.copy_(tensor(parameters[2 * i + 1], _linears[i].bias!.shape));
            }
        }

        public ITrainableModel Result()
        {
            var parameters = (float[][])Snapshot();
            var layers = new AffineModel[_linears.Length];
            for (int i = 0; i < layers.Length; i++) layers[i] = new AffineModel(parameters[2 * i], parameters[2 * i + 1]);   // torch's [out, in] weights are W, row-major
            return layers.Length == 1 ? layers[0] : new MlpModel(layers);
        }

        public void Dispose() => _scope.Dispose();
    }
}
