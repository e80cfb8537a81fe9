using System.Buffers;

namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// A differentiable map θ → ŷ over row-major batches (docs/architecture.md, "Layers"): <c>[batch × Dimension]</c> scores
/// in, <c>[batch × OutputDimension]</c> outputs out, with a vector-Jacobian product for any upstream gradient (so a solver
/// can sit in the middle of a model) and, where <see cref="HasJvp"/>, a Jacobian-vector product. Monte-Carlo layers take
/// a draw index: equal draws reuse the same noise (common random numbers), so a VJP computed after a forward pass with
/// the same draw differentiates exactly the estimator that the forward pass returned.
/// </summary>
/// <remarks>
/// Layers are immutable and thread-safe; results depend on (inputs, seed, draw) only, never on the thread count. The
/// perturbed optimizer, the soft sorting operators (<see cref="Sorting.RowOperator"/>, <see cref="Sorting.PerturbedSorting"/>), the plain solver, blackbox
/// interpolation, identity with projection, the projections and margin noise are layers, and
/// <see cref="DifferentiableLayers.Sequential"/> composes them.
/// </remarks>
public abstract class Layer
{
    /// <summary>Creates a layer from <paramref name="dimension"/> inputs to <paramref name="outputDimension"/> outputs per row.</summary>
    protected Layer(int dimension, int outputDimension)
    {
        Guard.Positive(dimension, nameof(dimension));
        Guard.Positive(outputDimension, nameof(outputDimension));
        Dimension = dimension;
        OutputDimension = outputDimension;
    }

    /// <summary>Length d of an input row.</summary>
    public int Dimension { get; }

    /// <summary>Length d′ of an output row.</summary>
    public int OutputDimension { get; }

    /// <summary>A short description used in messages.</summary>
    public abstract string Name { get; }

    /// <summary>Whether <see cref="ForwardJvp"/> is defined (false: it throws <see cref="NotSupportedException"/>).</summary>
    public virtual bool HasJvp => false;

    /// <summary>Whether outputs depend on the draw index (Monte-Carlo layers, margin noise).</summary>
    public virtual bool IsStochastic => false;

    /// <summary>Computes ŷ for every row.</summary>
    /// <param name="theta">Inputs, <c>[batch × Dimension]</c>, finite.</param>
    /// <param name="solution">Destination, <c>[batch × OutputDimension]</c>.</param>
    /// <param name="draw">Index of the noise draw (ignored by deterministic layers).</param>
    public abstract void Forward(ReadOnlySpan<float> theta, Span<float> solution, ulong draw = 0);

    /// <summary>Computes ŷ and the vector-Jacobian product Jᵀg of every row.</summary>
    /// <param name="theta">Inputs, <c>[batch × Dimension]</c>.</param>
    /// <param name="cotangent">Upstream gradient g = ∂loss/∂ŷ, <c>[batch × OutputDimension]</c>, finite.</param>
    /// <param name="solution">Destination for ŷ, <c>[batch × OutputDimension]</c>.</param>
    /// <param name="vjp">Destination for Jᵀg = ∂loss/∂θ, <c>[batch × Dimension]</c>.</param>
    /// <param name="draw">Index of the noise draw.</param>
    public abstract void ForwardVjp(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0);

    /// <summary>
    /// Computes ŷ, asks <paramref name="cotangent"/> for each row's upstream gradient g(ŷ), and writes Jᵀg: how a loss of
    /// ŷ is back-propagated. The default runs the forward pass, then <see cref="ForwardVjp(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, ulong)"/>
    /// with the same draw; the perturbed optimizer overrides it to reuse its samples instead of solving again.
    /// </summary>
    /// <param name="theta">Inputs, <c>[batch × Dimension]</c>.</param>
    /// <param name="cotangent">Called once per row with ŷ; writes g. May be called concurrently for different rows.</param>
    /// <param name="solution">Destination for ŷ.</param>
    /// <param name="vjp">Destination for Jᵀg.</param>
    /// <param name="draw">Index of the noise draw.</param>
    public virtual void ForwardVjp(ReadOnlySpan<float> theta, CotangentFunction cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
    {
        ArgumentNullException.ThrowIfNull(cotangent);
        int batch = CheckInput(theta);
        Guard.Rows(solution.Length, batch, OutputDimension, nameof(solution));
        Guard.Rows(vjp.Length, batch, Dimension, nameof(vjp));
        Forward(theta, solution, draw);
        int dOut = OutputDimension;
        float[] g = ArrayPool<float>.Shared.Rent(batch * dOut);
        float[] again = ArrayPool<float>.Shared.Rent(batch * dOut);
        try
        {
            for (int r = 0; r < batch; r++)
            {
                Span<float> gr = g.AsSpan(r * dOut, dOut);
                cotangent(r, solution.Slice(r * dOut, dOut), gr);
                CheckCotangentRow(gr, r);
            }
            ForwardVjp(theta, g.AsSpan(0, batch * dOut), again.AsSpan(0, batch * dOut), vjp, draw);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(g);
            ArrayPool<float>.Shared.Return(again);
        }
    }

    /// <summary>Computes ŷ and the Jacobian-vector product J t of every row, where <see cref="HasJvp"/>.</summary>
    /// <param name="theta">Inputs, <c>[batch × Dimension]</c>.</param>
    /// <param name="tangent">Direction t, <c>[batch × Dimension]</c>, finite.</param>
    /// <param name="solution">Destination for ŷ, <c>[batch × OutputDimension]</c>.</param>
    /// <param name="jvp">Destination for J t, <c>[batch × OutputDimension]</c>.</param>
    /// <param name="draw">Index of the noise draw.</param>
    /// <exception cref="NotSupportedException">The layer defines no JVP (blackbox interpolation, Sinkhorn's unrolled reverse mode).</exception>
    public virtual void ForwardJvp(ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw = 0)
        => throw new NotSupportedException($"{Name} defines a vector-Jacobian product only; it has no Jacobian-vector product.");

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Checks a batch of inputs (length and finiteness) and returns its row count.</summary>
    protected int CheckInput(ReadOnlySpan<float> theta)
    {
        int batch = Guard.RowCount(theta.Length, Dimension, nameof(theta));
        Guard.Finite(theta, Dimension, nameof(theta));
        return batch;
    }

    /// <summary>Checks the buffers of a VJP call and returns the row count.</summary>
    protected int CheckVjp(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp)
    {
        int batch = CheckInput(theta);
        Guard.Rows(cotangent.Length, batch, OutputDimension, nameof(cotangent));
        Guard.Finite(cotangent, OutputDimension, nameof(cotangent));
        Guard.Rows(solution.Length, batch, OutputDimension, nameof(solution));
        Guard.Rows(vjp.Length, batch, Dimension, nameof(vjp));
        return batch;
    }

    /// <summary>Checks the buffers of a JVP call and returns the row count.</summary>
    protected int CheckJvp(ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp)
    {
        int batch = CheckInput(theta);
        Guard.Rows(tangent.Length, batch, Dimension, nameof(tangent));
        Guard.Finite(tangent, Dimension, nameof(tangent));
        Guard.Rows(solution.Length, batch, OutputDimension, nameof(solution));
        Guard.Rows(jvp.Length, batch, OutputDimension, nameof(jvp));
        return batch;
    }

    /// <summary>Throws naming the row when a cotangent function wrote NaN or ±∞.</summary>
    internal static void CheckCotangentRow(ReadOnlySpan<float> g, int row)
    {
        for (int i = 0; i < g.Length; i++)
        {
            if (!float.IsFinite(g[i]))
            {
                throw new ArgumentException($"The cotangent function wrote {g[i]} at row {row}, column {i}; expected finite values.", "cotangent");
            }
        }
    }
}
