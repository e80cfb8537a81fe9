using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed;

/// <summary>
/// Base of the losses computed one row at a time (SPO+, direct loss minimization): rows in parallel, per-thread scratch
/// from a pool, results independent of the thread count.
/// </summary>
public abstract class RowwiseLoss : StructuredLoss
{
    private readonly ObjectPool<float[]> _scratch;

    /// <summary>Creates the loss.</summary>
    protected RowwiseLoss(int dimension, int targetDimension) : base(dimension, targetDimension)
    {
        _scratch = new ObjectPool<float[]>(() => new float[Math.Max(1, ScratchLength)]);
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
            RowBatch.Run(loss.Length, MaxDegreeOfParallelism, new Rows(this, pTheta, pTarget, pLoss, pGradient, draw),
                static (in Rows b, int start, int end) => b.Evaluate(start, end));
        }
    }

    private readonly unsafe struct Rows(RowwiseLoss owner, float* theta, float* target, float* loss, float* gradient, ulong draw)
    {
        public void Evaluate(int start, int end)
        {
            int d = owner.Dimension, t = owner.TargetDimension;
            float[] scratch = owner._scratch.Rent();
            try
            {
                for (int r = start; r < end; r++)
                {
                    double value = owner.EvaluateRow(r, new ReadOnlySpan<float>(theta + (long)r * d, d), new ReadOnlySpan<float>(target + (long)r * t, t),
                        new Span<float>(gradient + (long)r * d, d), draw, scratch.AsSpan(0, owner.ScratchLength));
                    loss[r] = (float)value;
                }
            }
            finally
            {
                owner._scratch.Return(scratch);
            }
        }
    }
}
