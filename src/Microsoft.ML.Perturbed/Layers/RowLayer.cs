using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// Base of the layers that work one row at a time (projections, margin noise, the plain solver, blackbox, identity):
/// validation once per batch, rows in parallel (<see cref="MaxDegreeOfParallelism"/>), per-thread scratch from a pool.
/// A derived layer writes three row kernels; the rows never see each other, so results do not depend on threads.
/// </summary>
internal abstract class RowLayer : Layer
{
    private readonly ObjectPool<float[]> _scratch;

    /// <summary>Creates the layer.</summary>
    protected RowLayer(int dimension, int outputDimension) : base(dimension, outputDimension)
    {
        _scratch = new ObjectPool<float[]>(() => new float[Math.Max(1, ScratchLength)]);
    }

    /// <summary>Most threads a call may use; −1 (default) uses every core. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Length of the per-thread scratch buffer a row kernel receives; default 0.</summary>
    protected virtual int ScratchLength => 0;

    /// <summary>Forward kernel of one row.</summary>
    protected abstract void ForwardRow(int row, ReadOnlySpan<float> theta, Span<float> solution, ulong draw, Span<float> scratch);

    /// <summary>VJP kernel of one row: writes ŷ and Jᵀg.</summary>
    protected abstract void VjpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp,
        ulong draw, Span<float> scratch);

    /// <summary>JVP kernel of one row (only called where <see cref="Layer.HasJvp"/>).</summary>
    protected virtual void JvpRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp,
        ulong draw, Span<float> scratch) => throw new NotSupportedException();

    /// <inheritdoc/>
    public sealed override void Forward(ReadOnlySpan<float> theta, Span<float> solution, ulong draw = 0)
    {
        int batch = CheckInput(theta);
        Guard.Rows(solution.Length, batch, OutputDimension, nameof(solution));
        Run(batch, theta, default, solution, default, draw, Mode.Forward);
    }

    /// <inheritdoc/>
    public sealed override void ForwardVjp(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
    {
        int batch = CheckVjp(theta, cotangent, solution, vjp);
        Run(batch, theta, cotangent, solution, vjp, draw, Mode.Vjp);
    }

    /// <inheritdoc/>
    public sealed override void ForwardJvp(ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw = 0)
    {
        if (!HasJvp) base.ForwardJvp(theta, tangent, solution, jvp, draw);
        int batch = CheckJvp(theta, tangent, solution, jvp);
        Run(batch, theta, tangent, solution, jvp, draw, Mode.Jvp);
    }

    private unsafe void Run(int batch, ReadOnlySpan<float> theta, ReadOnlySpan<float> direction, Span<float> solution, Span<float> derivative, ulong draw, Mode mode)
    {
        fixed (float* pTheta = theta)
        fixed (float* pDirection = direction)
        fixed (float* pSolution = solution)
        fixed (float* pDerivative = derivative)
        {
            RowBatch.Run(batch, MaxDegreeOfParallelism, new Rows(this, pTheta, pDirection, pSolution, pDerivative, draw, mode),
                static (in Rows b, int start, int end) => b.Process(start, end));
        }
    }

    private enum Mode { Forward, Vjp, Jvp }

    private readonly unsafe struct Rows(RowLayer owner, float* theta, float* direction, float* solution, float* derivative, ulong draw, Mode mode)
    {
        public void Process(int start, int end)
        {
            int d = owner.Dimension, dOut = owner.OutputDimension;
            float[] scratch = owner._scratch.Rent();
            try
            {
                for (int r = start; r < end; r++)
                {
                    var row = new ReadOnlySpan<float>(theta + (long)r * d, d);
                    var y = new Span<float>(solution + (long)r * dOut, dOut);
                    Span<float> s = scratch.AsSpan(0, owner.ScratchLength);
                    switch (mode)
                    {
                        case Mode.Forward:
                            owner.ForwardRow(r, row, y, draw, s);
                            break;
                        case Mode.Vjp:
                            owner.VjpRow(r, row, new ReadOnlySpan<float>(direction + (long)r * dOut, dOut), y,
                                new Span<float>(derivative + (long)r * d, d), draw, s);
                            break;
                        case Mode.Jvp:
                            owner.JvpRow(r, row, new ReadOnlySpan<float>(direction + (long)r * d, d), y,
                                new Span<float>(derivative + (long)r * dOut, dOut), draw, s);
                            break;
                        default:
                            throw new InvalidOperationException($"Unknown mode {mode}.");
                    }
                }
            }
            finally
            {
                owner._scratch.Return(scratch);
            }
        }
    }
}
