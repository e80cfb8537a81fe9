using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// Base of the losses computed one row at a time (SPO+, direct loss minimization): rows in parallel, per-thread scratch
/// from a pool, results independent of the thread count.
/// </summary>
internal abstract class RowwiseLoss : StructuredLoss
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

    /// <summary>
    /// Writes the row's gradient and returns its loss value; <paramref name="target"/> is the row's target, encoded
    /// (<see cref="StructuredLoss.EncodedTargetDimension"/> values) or not (<see cref="StructuredLoss.TargetDimension"/>).
    /// </summary>
    protected abstract double EvaluateRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> gradient, ulong draw, Span<float> scratch);

    /// <summary>Writes the encoded form of one target row (a loss with an encoded form overrides it; the default copies).</summary>
    protected virtual void EncodeRow(int row, ReadOnlySpan<float> target, Span<float> encoded) => target.CopyTo(encoded);

    /// <summary>Encodes the rows in parallel (<see cref="EncodeRow"/>).</summary>
    protected sealed override unsafe void EncodeTargetsCore(ReadOnlySpan<float> target, Span<float> encoded)
    {
        fixed (float* pTarget = target)
        fixed (float* pEncoded = encoded)
        {
            RowBatch.Run(target.Length / TargetDimension, MaxDegreeOfParallelism, new Encoding(this, pTarget, pEncoded),
                static (in Encoding b, int start, int end) => b.Encode(start, end));
        }
    }

    /// <inheritdoc/>
    protected sealed override unsafe void EvaluateCore(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient, ulong draw)
    {
        fixed (float* pTheta = theta)
        fixed (float* pTarget = target)
        fixed (float* pLoss = loss)
        fixed (float* pGradient = gradient)
        {
            RowBatch.Run(loss.Length, MaxDegreeOfParallelism, new Rows(this, pTheta, pTarget, target.Length / loss.Length, pLoss, pGradient, draw),
                static (in Rows b, int start, int end) => b.Evaluate(start, end));
        }
    }

    private readonly unsafe struct Rows(RowwiseLoss owner, float* theta, float* target, int targetWidth, float* loss, float* gradient, ulong draw)
    {
        public void Evaluate(int start, int end)
        {
            int d = owner.Dimension, t = targetWidth;
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

    private readonly unsafe struct Encoding(RowwiseLoss owner, float* target, float* encoded)
    {
        public void Encode(int start, int end)
        {
            int raw = owner.TargetDimension, stored = owner.EncodedTargetDimension;
            for (int r = start; r < end; r++)
            {
                owner.EncodeRow(r, new ReadOnlySpan<float>(target + (long)r * raw, raw), new Span<float>(encoded + (long)r * stored, stored));
            }
        }
    }
}
