using System.Numerics;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Base of the soft sorting operators: a <see cref="Layer"/> from rows of <see cref="Layer.Dimension"/> values to rows of
/// <see cref="Layer.OutputDimension"/> values, applied to row-major batches in single or double precision (computation in
/// double), in parallel over rows, with results independent of the thread count and no steady-state allocations. The
/// operators are deterministic: the <c>draw</c> argument of the layer methods is ignored.
/// </summary>
public abstract class RowOperator : Layer
{
    private readonly ObjectPool<RowWorkspace> _workspaces;

    private protected RowOperator(int dimension, int outputDimension) : base(dimension, outputDimension)
    {
        _workspaces = new ObjectPool<RowWorkspace>(CreateWorkspace);
    }

    /// <summary>Most threads a call may use; −1 (default) uses every core.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <inheritdoc/>
    public override string Name => $"{GetType().Name}(d={Dimension})";

    /// <summary>Computes the operator on every row.</summary>
    /// <param name="theta">Inputs, <c>[batch × Dimension]</c>, finite.</param>
    /// <param name="solution">Destination, <c>[batch × OutputDimension]</c>.</param>
    /// <param name="draw">Ignored: the operator is deterministic.</param>
    public override void Forward(ReadOnlySpan<float> theta, Span<float> solution, ulong draw = 0) => Run(theta, solution, default, default, RowMode.Forward);

    /// <summary>Computes the operator on every row, in double precision.</summary>
    /// <param name="theta">Inputs, <c>[batch × Dimension]</c>, finite.</param>
    /// <param name="solution">Destination, <c>[batch × OutputDimension]</c>.</param>
    public void Forward(ReadOnlySpan<double> theta, Span<double> solution) => Run(theta, solution, default, default, RowMode.Forward);

    /// <summary>Computes the operator and the vector-Jacobian product gᵀJ of every row (exact).</summary>
    /// <param name="theta">Inputs, <c>[batch × Dimension]</c>.</param>
    /// <param name="cotangent">Cotangent g, <c>[batch × OutputDimension]</c>.</param>
    /// <param name="solution">Destination for the operator's output.</param>
    /// <param name="vjp">Destination for gᵀJ, <c>[batch × Dimension]</c>.</param>
    /// <param name="draw">Ignored: the operator is deterministic.</param>
    public override void ForwardVjp(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
        => Run(theta, solution, cotangent, vjp, RowMode.Vjp);

    /// <summary>Computes the operator and the vector-Jacobian product gᵀJ of every row, in double precision.</summary>
    /// <param name="theta">Inputs, <c>[batch × Dimension]</c>.</param>
    /// <param name="cotangent">Cotangent g, <c>[batch × OutputDimension]</c>.</param>
    /// <param name="solution">Destination for the operator's output.</param>
    /// <param name="vjp">Destination for gᵀJ, <c>[batch × Dimension]</c>.</param>
    public void ForwardVjp(ReadOnlySpan<double> theta, ReadOnlySpan<double> cotangent, Span<double> solution, Span<double> vjp)
        => Run(theta, solution, cotangent, vjp, RowMode.Vjp);

    /// <summary>
    /// Computes the operator and the Jacobian-vector product J t of every row, in double precision, where
    /// <see cref="Layer.HasJvp"/> (the permutahedron operators: exact).
    /// </summary>
    /// <param name="theta">Inputs θ, <c>[batch × Dimension]</c>.</param>
    /// <param name="tangent">Direction t, <c>[batch × Dimension]</c>.</param>
    /// <param name="solution">Destination for the operator's output.</param>
    /// <param name="jvp">Destination for J t, <c>[batch × OutputDimension]</c>.</param>
    /// <exception cref="NotSupportedException">The operator has no JVP (Sinkhorn: use <see cref="ForwardVjp(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double})"/>).</exception>
    public void ForwardJvp(ReadOnlySpan<double> theta, ReadOnlySpan<double> tangent, Span<double> solution, Span<double> jvp)
    {
        if (!HasJvp) throw new NotSupportedException($"{Name} defines a vector-Jacobian product only; it has no Jacobian-vector product.");
        Run(theta, solution, tangent, jvp, RowMode.Jvp);
    }

    private protected abstract RowWorkspace CreateWorkspace();

    /// <summary>Row kernel: fills <c>w.Output</c> from <c>w.Input</c> and, for derivatives, <c>w.Derivative</c> from <c>w.Direction</c>.</summary>
    private protected abstract void ComputeRow(RowWorkspace w, RowMode mode);

    private protected unsafe void Run<T>(ReadOnlySpan<T> values, Span<T> result, ReadOnlySpan<T> direction, Span<T> derivative, RowMode mode)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Run(values, result, direction, derivative, mode, null);

    /// <summary>
    /// Validates and runs every row; with <paramref name="reports"/> (a buffer of one report per row, of the type the
    /// operator's <see cref="WriteReport"/> writes), each row's report is written to its own slot after the row ran, so
    /// the caller can reduce them in row order, independently of the thread count.
    /// </summary>
    private protected unsafe void Run<T>(ReadOnlySpan<T> values, Span<T> result, ReadOnlySpan<T> direction, Span<T> derivative, RowMode mode, void* reports)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = Dimension, dOut = OutputDimension;
        int batch = Guard.RowCount(values.Length, n, "theta");
        Guard.Rows(result.Length, batch, dOut, "solution");
        Guard.Finite(values, n, "theta");
        if (mode != RowMode.Forward)
        {
            // VJP: g has the output's shape and Jᵀg the input's; JVP: t has the input's shape and J t the output's.
            (int dirLength, int derLength, string dirName, string derName) = mode == RowMode.Vjp
                ? (dOut, n, "cotangent", "vjp")
                : (n, dOut, "tangent", "jvp");
            Guard.Rows(direction.Length, batch, dirLength, dirName);
            Guard.Rows(derivative.Length, batch, derLength, derName);
            Guard.Finite(direction, dirLength, dirName);
        }
        fixed (T* pValues = values)
        fixed (T* pResult = result)
        fixed (T* pDirection = direction)
        fixed (T* pDerivative = derivative)
        {
            RowBatch.Run(batch, MaxDegreeOfParallelism, new Rows<T>(this, pValues, pResult, pDirection, pDerivative, reports, mode),
                static (in Rows<T> b, int start, int end) => b.Owner.ProcessRows(start, end, b.Values, b.Result, b.Direction, b.Derivative, b.Reports, b.Mode));
        }
    }

    private unsafe void ProcessRows<T>(int start, int end, T* values, T* result, T* direction, T* derivative, void* reports, RowMode mode)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = Dimension, dOut = OutputDimension;
        int dirLength = mode == RowMode.Vjp ? dOut : n, derLength = mode == RowMode.Vjp ? n : dOut;
        RowWorkspace w = _workspaces.Rent();
        w.SingleInput = typeof(T) == typeof(float);
        try
        {
            for (int row = start; row < end; row++)
            {
                for (int i = 0; i < n; i++) w.Input[i] = double.CreateTruncating(values[(long)row * n + i]);
                if (mode != RowMode.Forward)
                {
                    for (int i = 0; i < dirLength; i++) w.Direction[i] = double.CreateTruncating(direction[(long)row * dirLength + i]);
                }
                ComputeRow(w, mode);
                for (int i = 0; i < dOut; i++) result[(long)row * dOut + i] = Narrow<T>(w.Output[i], row, i, "solution");
                if (mode != RowMode.Forward)
                {
                    for (int i = 0; i < derLength; i++) derivative[(long)row * derLength + i] = Narrow<T>(w.Derivative[i], row, i, mode == RowMode.Vjp ? "vjp" : "jvp");
                }
                if (reports != null) WriteReport(w, reports, row);
            }
        }
        finally
        {
            _workspaces.Return(w);
        }
    }

    /// <summary>
    /// A double result in the caller's precision; a finite value that single precision cannot hold (a derivative of order
    /// 1/ε at a tiny ε) is refused with the row and column instead of becoming ±∞.
    /// </summary>
    private T Narrow<T>(double value, int row, int column, string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T narrowed = T.CreateTruncating(value);
        if (!T.IsFinite(narrowed))
        {
            throw new ArgumentOutOfRangeException(name, value,
                $"{GetType().Name}: the value {value:G4} at row {row}, column {column} does not fit in {typeof(T).Name} (its scale is set by the strength ε = {Strength}); use a larger ε or the double overload.");
        }
        return narrowed;
    }

    /// <summary>
    /// Writes what the row just computed in <paramref name="w"/> reports (an operator's own unmanaged type) to slot
    /// <paramref name="row"/> of <paramref name="reports"/>; only operators that pass a report buffer to
    /// <see cref="Run{T}(ReadOnlySpan{T}, Span{T}, ReadOnlySpan{T}, Span{T}, RowMode, void*)"/> override it.
    /// </summary>
    private protected virtual unsafe void WriteReport(RowWorkspace w, void* reports, int row) =>
        throw new NotSupportedException($"{GetType().Name} reports nothing per row.");

    /// <summary>The operator's strength ε, for messages.</summary>
    private protected virtual double Strength => double.NaN;

    private readonly unsafe struct Rows<T>(RowOperator owner, T* values, T* result, T* direction, T* derivative, void* reports, RowMode mode)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public readonly RowOperator Owner = owner;
        public readonly T* Values = values, Result = result, Direction = direction, Derivative = derivative;
        public readonly void* Reports = reports;
        public readonly RowMode Mode = mode;
    }
}
