using Microsoft.ML.Perturbed.Layers;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>The loss of <see cref="StructuredLoss.OfLayer"/> and <see cref="StructuredLoss.Squared"/>, documented there.</summary>
internal sealed class LayerLoss : StructuredLoss
{
    private readonly Threading.ObjectPool<Job> _jobs;

    /// <summary>Creates the loss; <paramref name="rowLoss"/> must be thread-safe (rows are evaluated concurrently).</summary>
    /// <param name="layer">The layer θ → ŷ.</param>
    /// <param name="rowLoss">ℓ(ŷ, y) and ∂ℓ/∂ŷ for one row.</param>
    /// <param name="name">Name of ℓ in messages.</param>
    /// <param name="targetDimension">Length of a target row; default the layer's output length.</param>
    public LayerLoss(Layer layer, RowLoss rowLoss, string name = "UserLoss", int? targetDimension = null)
        : base((layer ?? throw new ArgumentNullException(nameof(layer))).Dimension, targetDimension ?? layer.OutputDimension)
    {
        ArgumentNullException.ThrowIfNull(rowLoss);
        Layer = layer;
        RowLoss = rowLoss;
        LossName = name;
        _jobs = new Threading.ObjectPool<Job>(() => new Job(this));
    }

    /// <summary>The task loss <paramref name="taskLoss"/> of the layer's output: squared, or the linear −⟨ŷ, y⟩.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="taskLoss"/> is not a defined value.</exception>
    public static LayerLoss OfTask(Layer layer, Losses.TaskLoss taskLoss) => taskLoss switch
    {
        Losses.TaskLoss.Squared => new LayerLoss(layer, RowLosses.Squared, "Squared"),
        Losses.TaskLoss.Linear => new LayerLoss(layer, RowLosses.NegativeInnerProduct, "Linear"),
        _ => throw new ArgumentOutOfRangeException(nameof(taskLoss), taskLoss, $"Unknown TaskLoss value {taskLoss} for '{nameof(taskLoss)}'."),
    };

    /// <summary>The layer.</summary>
    public Layer Layer { get; }

    /// <summary>The row loss.</summary>
    public RowLoss RowLoss { get; }

    /// <summary>Name of the row loss.</summary>
    public string LossName { get; }

    /// <inheritdoc/>
    public override string Name => $"{LossName}({Layer.Name})";

    /// <summary>The squared loss of a perturbed optimizer or of the scores; null for every other layer or row loss.</summary>
    internal override DeviceLossForm? DeviceForm => !ReferenceEquals(RowLoss, RowLosses.Squared) ? null : Layer switch
    {
        PerturbedOptimizer optimizer => new DeviceLossForm(DeviceLossKind.PerturbedSquared, optimizer),
        ScoresLayer => new DeviceLossForm(DeviceLossKind.SquaredScores),
        _ => null,
    };

    /// <inheritdoc/>
    protected override unsafe void EvaluateCore(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient, ulong draw)
    {
        int batch = loss.Length;
        float[] solution = System.Buffers.ArrayPool<float>.Shared.Rent(batch * Layer.OutputDimension);
        Job job = _jobs.Rent();
        fixed (float* pTarget = target)
        fixed (float* pLoss = loss)
        {
            job.Target = pTarget;
            job.Loss = pLoss;
            try
            {
                Layer.ForwardVjp(theta, job.Function, solution.AsSpan(0, batch * Layer.OutputDimension), gradient, draw);
            }
            finally
            {
                job.Target = null;
                job.Loss = null;
                _jobs.Return(job);
                System.Buffers.ArrayPool<float>.Shared.Return(solution);
            }
        }
    }

    /// <summary>Holds the pinned target and loss buffers for the cotangent callback (one delegate, no per-call closure).</summary>
    private sealed unsafe class Job
    {
        public float* Target, Loss;
        public readonly CotangentFunction Function;

        public Job(LayerLoss owner)
        {
            int t = owner.TargetDimension;
            Function = (row, yHat, g) =>
            {
                double value = owner.RowLoss(yHat, new ReadOnlySpan<float>(Target + (long)row * t, t), g);
                if (!double.IsFinite(value))
                {
                    throw new InvalidOperationException($"{owner.LossName} returned {value} at row {row}; a loss value must be finite.");
                }
                Loss[row] = (float)value;
            };
        }
    }
}
