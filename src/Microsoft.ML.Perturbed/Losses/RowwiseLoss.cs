using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed;

/// <summary>
/// Base of the losses computed one row at a time (SPO+, direct loss minimization): rows in parallel, per-thread scratch
/// from a pool, results independent of the thread count.
/// </summary>
public abstract class RowwiseLoss : StructuredLoss
{
    private readonly ObjectPool<Job> _jobs;

    /// <summary>Creates the loss.</summary>
    protected RowwiseLoss(int dimension, int targetDimension) : base(dimension, targetDimension)
    {
        _jobs = new ObjectPool<Job>(() => new Job(this));
    }

    /// <summary>Most threads a call may use; −1 (default) uses every core.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Length of the per-thread scratch buffer.</summary>
    protected abstract int ScratchLength { get; }

    /// <summary>Writes the row's gradient and returns its loss value.</summary>
    protected abstract double EvaluateRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> gradient, ulong draw, Span<float> scratch);

    /// <inheritdoc/>
    protected sealed override unsafe void EvaluateCore(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient, ulong draw)
    {
        fixed (float* pTheta = theta)
        fixed (float* pTarget = target)
        fixed (float* pLoss = loss)
        fixed (float* pGradient = gradient)
        {
            Job job = _jobs.Rent();
            job.Theta = pTheta;
            job.Target = pTarget;
            job.Loss = pLoss;
            job.Gradient = pGradient;
            job.Draw = draw;
            try
            {
                RowParallel.For(loss.Length, MaxDegreeOfParallelism, job);
            }
            finally
            {
                _jobs.Return(job);
            }
        }
    }

    private sealed unsafe class Job(RowwiseLoss owner) : IRowJob
    {
        private readonly ObjectPool<float[]> _scratch = new(() => new float[Math.Max(1, owner.ScratchLength)]);
        public float* Theta, Target, Loss, Gradient;
        public ulong Draw;

        public void Execute(int start, int end)
        {
            int d = owner.Dimension, t = owner.TargetDimension;
            float[] scratch = _scratch.Rent();
            try
            {
                for (int r = start; r < end; r++)
                {
                    double value = owner.EvaluateRow(r, new ReadOnlySpan<float>(Theta + (long)r * d, d), new ReadOnlySpan<float>(Target + (long)r * t, t),
                        new Span<float>(Gradient + (long)r * d, d), Draw, scratch.AsSpan(0, owner.ScratchLength));
                    Loss[r] = (float)value;
                }
            }
            finally
            {
                _scratch.Return(scratch);
            }
        }
    }
}
