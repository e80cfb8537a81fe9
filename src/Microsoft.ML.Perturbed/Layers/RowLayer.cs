using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// Base of the layers that work one row at a time (projections, margin noise, the plain solver, blackbox, identity):
/// validation once per batch, rows in parallel (<see cref="MaxDegreeOfParallelism"/>), per-thread scratch from a pool.
/// A derived layer writes three row kernels; the rows never see each other, so results do not depend on threads.
/// </summary>
public abstract class RowLayer : Layer
{
    private readonly ObjectPool<Job> _jobs;

    /// <summary>Creates the layer.</summary>
    protected RowLayer(int dimension, int outputDimension) : base(dimension, outputDimension)
    {
        _jobs = new ObjectPool<Job>(() => new Job(this));
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
            Job job = _jobs.Rent();
            job.Theta = pTheta;
            job.Direction = pDirection;
            job.Solution = pSolution;
            job.Derivative = pDerivative;
            job.Draw = draw;
            job.Mode = mode;
            try
            {
                RowParallel.For(batch, MaxDegreeOfParallelism, job);
            }
            finally
            {
                _jobs.Return(job);
            }
        }
    }

    private enum Mode { Forward, Vjp, Jvp }

    private sealed unsafe class Job(RowLayer owner) : IRowJob
    {
        private readonly ObjectPool<float[]> _scratch = new(() => new float[Math.Max(1, owner.ScratchLength)]);
        public float* Theta, Direction, Solution, Derivative;
        public ulong Draw;
        public Mode Mode;

        public void Execute(int start, int end)
        {
            int d = owner.Dimension, dOut = owner.OutputDimension;
            float[] scratch = _scratch.Rent();
            try
            {
                for (int r = start; r < end; r++)
                {
                    var theta = new ReadOnlySpan<float>(Theta + (long)r * d, d);
                    var solution = new Span<float>(Solution + (long)r * dOut, dOut);
                    Span<float> s = scratch.AsSpan(0, owner.ScratchLength);
                    switch (Mode)
                    {
                        case Mode.Forward:
                            owner.ForwardRow(r, theta, solution, Draw, s);
                            break;
                        case Mode.Vjp:
                            owner.VjpRow(r, theta, new ReadOnlySpan<float>(Direction + (long)r * dOut, dOut), solution,
                                new Span<float>(Derivative + (long)r * d, d), Draw, s);
                            break;
                        case Mode.Jvp:
                            owner.JvpRow(r, theta, new ReadOnlySpan<float>(Direction + (long)r * d, d), solution,
                                new Span<float>(Derivative + (long)r * dOut, dOut), Draw, s);
                            break;
                        default:
                            throw new InvalidOperationException($"Unknown mode {Mode}.");
                    }
                }
            }
            finally
            {
                _scratch.Return(scratch);
            }
        }
    }
}
