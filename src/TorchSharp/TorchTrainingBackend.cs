using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Perturbed.TorchSharp;

/// <summary>
/// Trains structured models with TorchSharp on a device (GPU when selected): an affine model or an MLP (hidden layers
/// with ReLU), the perturbation batch and the loss on the device (<see cref="PerturbedAutograd"/>), TorchSharp's Adam or
/// SGD. Returns managed <see cref="AffineModel"/>/<see cref="MlpModel"/> weights, so saved models score without
/// TorchSharp. Set it as <c>Backend</c> in a trainer's options.
/// </summary>
/// <remarks>
/// Heads: argmax, top-k and ranking (with the default reference) run on the device; matching solves its perturbed
/// assignments on the host with the exact CPU oracle; other oracles train with the CPU backend.
/// Losses: Fenchel-Young, perturbed + squared, squared on scores (blackbox is CPU only). L2 is applied as weight decay
/// (on weights and biases). Results are bit for bit the same for a seed on the CPU, whatever torch's thread count (tested);
/// GPU kernels may differ in the last bits.
/// </remarks>
/// <param name="device">Where to train; default the CPU. See <see cref="TorchDevice.Select"/>.</param>
/// <param name="hiddenLayers">Widths of the hidden layers; empty (default) for the affine model of the papers.</param>
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

    /// <summary>Hidden layer widths.</summary>
    public IReadOnlyList<int> HiddenLayers { get; } = hiddenLayers.ToArray();

    /// <inheritdoc/>
    public IScoreModel Train(Oracle head, ReadOnlySpan<float> features, ReadOnlySpan<float> targets, int featureCount, StructuredTrainerOptions options,
        ReadOnlySpan<float> validationFeatures, ReadOnlySpan<float> validationTargets, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(options);
        LibTorchRuntime.EnsureLoaded();
        if (HiddenLayers.Any(w => w < 1)) throw new ArgumentOutOfRangeException(nameof(hiddenLayers), "Hidden layer widths must be at least 1.");
        (TorchHeadKind kind, int k) = head switch
        {
            ArgmaxOracle => (TorchHeadKind.Argmax, 1),
            TopKOracle top => (TorchHeadKind.TopK, top.K),
            MatchingOracle => (TorchHeadKind.Matching, 1),
            RankingOracle ranking when ranking.ReferenceDescending.SequenceEqual(RankingOracle.DefaultReference(ranking.Dimension).Reverse().ToArray()) => (TorchHeadKind.Ranking, 1),
            _ => throw new NotSupportedException($"The TorchSharp backend runs the argmax, top-k, ranking and matching heads; {head.Name} trains with the CPU backend."),
        };
        if (options.Loss == StructuredLossKind.Blackbox)
        {
            throw new NotSupportedException("The blackbox loss trains with the CPU backend.");
        }
        int d = head.Dimension, p = featureCount;
        int n = features.Length / p;
        if (n == 0 || features.Length != n * p || targets.Length != n * d)
        {
            throw new ArgumentException($"Expected [n × {p}] features and [n × {d}] targets, got {features.Length} and {targets.Length} values.", nameof(features));
        }

        using var scope = NewDisposeScope();
        random.manual_seed(options.Seed);
        var perturbed = new TorchPerturbedOptimizer(kind, d, new PerturbedOptimizerOptions
        {
            Epsilon = options.Epsilon, Samples = options.Samples, Noise = options.Noise, Seed = options.Seed,
        }, Device, k);
        Linear[] linears = BuildLayers(p, d);
        var model = nn.Sequential(linears.SelectMany((layer, i) => i < linears.Length - 1
            ? new (string, nn.Module<Tensor, Tensor>)[] { ($"linear{i}", layer), ($"relu{i}", nn.ReLU()) }
            : new (string, nn.Module<Tensor, Tensor>)[] { ($"linear{i}", layer) }).ToArray());
        model.to(Device);
        optim.Optimizer optimizer = options.Optimizer == GradientOptimizerKind.Adam
            ? optim.Adam(model.parameters(), lr: options.LearningRate, weight_decay: options.L2)
            : optim.SGD(model.parameters(), options.LearningRate, weight_decay: options.L2);

        Tensor x = tensor(features.ToArray(), [n, p]).to(Device), y = tensor(targets.ToArray(), [n, d]).to(Device);
        bool validate = !validationFeatures.IsEmpty;
        Tensor? vx = validate ? tensor(validationFeatures.ToArray(), [validationFeatures.Length / p, p]).to(Device) : null;
        Tensor? vy = validate ? tensor(validationTargets.ToArray(), [validationTargets.Length / d, d]).to(Device) : null;
        var shuffle = new System.Random(options.Seed);
        int[] order = Enumerable.Range(0, n).ToArray();
        int batchSize = Math.Min(options.BatchSize, n);
        var stopping = new EarlyStopping<float[][]>(options.EarlyStoppingPatience);
        float[][] Snapshot() => linears.SelectMany(l => new[] { l.weight!.detach().cpu().data<float>().ToArray(), l.bias!.detach().cpu().data<float>().ToArray() }).ToArray();
        ulong step = 0;
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            shuffle.Shuffle(order);
            double epochLoss = 0;
            int batches = 0;
            for (int start = 0; start < n; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var batchScope = NewDisposeScope();
                Tensor rows = tensor(order.AsSpan(start, Math.Min(batchSize, n - start)).ToArray().Select(i => (long)i).ToArray()).to(Device);
                optimizer.zero_grad();
                Tensor loss = Loss(model.forward(x.index_select(0, rows)), y.index_select(0, rows), perturbed, options.Loss, step++);
                loss.backward();
                optimizer.step();
                epochLoss += loss.item<float>();
                batches++;
            }
            double validationLoss = double.NaN;
            if (validate)
            {
                using (no_grad())
                {
                    validationLoss = Loss(model.forward(vx!), vy!, perturbed, options.Loss, ulong.MaxValue).item<float>();
                }
                if (stopping.Observe(validationLoss, Snapshot))
                {
                    progress?.Report(new TrainingProgress(epoch, epochLoss / batches, validationLoss));
                    break;
                }
            }
            progress?.Report(new TrainingProgress(epoch, epochLoss / batches, validationLoss));
        }
        float[][] parameters = stopping.Best ?? Snapshot();
        var layers = new AffineModel[linears.Length];
        for (int i = 0; i < layers.Length; i++) layers[i] = new AffineModel(parameters[2 * i], parameters[2 * i + 1]);   // torch's [out, in] weights are W, row-major
        return layers.Length == 1 ? layers[0] : new MlpModel(layers);
    }

    private Linear[] BuildLayers(int inputs, int outputs)
    {
        int[] widths = [inputs, .. HiddenLayers, outputs];
        var layers = new Linear[widths.Length - 1];
        for (int i = 0; i < layers.Length; i++) layers[i] = nn.Linear(widths[i], widths[i + 1]);
        return layers;
    }

    /// <summary>The mean loss of a batch on the device.</summary>
    private static Tensor Loss(Tensor theta, Tensor target, TorchPerturbedOptimizer perturbed, StructuredLossKind kind, ulong draw) => kind switch
    {
        StructuredLossKind.FenchelYoung => PerturbedAutograd.FenchelYoungLoss(perturbed, theta, target, draw),
        StructuredLossKind.PerturbedSquared => 0.5 * (PerturbedAutograd.Perturbed(perturbed, theta, draw) - target).pow(2).sum(-1).mean(),
        _ => 0.5 * (theta - target).pow(2).sum(-1).mean(),
    };
}
