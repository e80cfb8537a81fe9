using System.Buffers;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Soft ranks, CDF, sort, quantiles and quantile normalization by entropic optimal transport (Cuturi, Teboul, Vert
/// 2019, "Differentiable Ranking and Sorting using Optimal Transport"). A row x of n values, squashed into [0, 1],
/// is transported onto m targets y on a regular grid of [0, 1] with weights a = 1/n and b; the plan
/// P_ε = argmin_{P∈U(a,b)} ⟨P, C⟩ − εH(P), C_ij = (yⱼ − x̃ᵢ)², is found by Sinkhorn iterations, and the requested
/// output (<see cref="SinkhornOutput"/>) is read off P.
/// </summary>
/// <remarks>
/// <para><b>Gradients</b> (VJP only) are computed by default by unrolling the Sinkhorn iterations in reverse mode: they are
/// the exact derivative of the output actually computed (checked against finite differences), at 2–4 times the cost of
/// the forward pass and with the potentials of every iteration kept per thread (iterations × (n + m) doubles). With
/// <see cref="SinkhornOptions.ImplicitDifferentiation"/> they are the implicit derivative at the converged plan instead:
/// one m × m Schur system per row (first potential pinned), O(n·m² + m³) whatever the iteration count, exact only at
/// convergence (within about the tolerance of the unrolled VJP); rows stopped at the cap are unrolled
/// (<see cref="SinkhornConvergence.ImplicitFallbackRows"/>).</para>
/// <para>Iterations stop when the row-marginal error Σᵢ |(P1)ᵢ − aᵢ| falls below <see cref="SinkhornOptions.Tolerance"/>
/// (the column marginals are exact after every iteration) or after <see cref="SinkhornOptions.MaxIterations"/>.
/// A converged row is read out with a⁻¹ = n; a row stopped at the cap (<see cref="SinkhornConvergence.CappedRows"/>),
/// whose row masses may be far from a, is read out with its own masses (P1)ᵢ — a barycentre of the read-out values, so
/// ranks stay in [1, n] and sorted values in [min x, max x] after any number of iterations; the VJP differentiates
/// that read-out. The two agree at exact convergence. <see cref="ForwardWithReport(ReadOnlySpan{float}, Span{float})"/>
/// and <see cref="ForwardVjpWithReport(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float})"/> return
/// how the rows of that call converged.</para>
/// <para><b>Iterations in the scalings.</b> The log-domain update fᵢ = −ε LSEⱼ(log bⱼ + (gⱼ − Cᵢⱼ)/ε) costs one
/// exponential per plan entry and half-iteration. Writing f = α + ε log u and g = β + ε log v around absorbed
/// potentials (α, β), it is uᵢ = 1/Σⱼ bⱼK̃ᵢⱼvⱼ with K̃ = exp((α + β − C)/ε) computed once, so an iteration is two
/// matrix–vector products. The scalings are absorbed into (α, β) again when a sum leaves [10⁻⁵⁰, 10⁵⁰] (at small ε
/// and in early iterations), and an iteration that cannot be taken even then runs in the log domain, so the result
/// is the log-domain one to rounding at every ε (tested from 10⁻⁵ to 1). Forward passes are 5–11 times faster than
/// in the log domain, VJPs 5–6 times (bench/results/README.md).</para>
/// <para>The operator is immutable and thread-safe: calls may run concurrently, and a call's report describes that
/// call alone.</para>
/// </remarks>
public sealed class SinkhornSorting : RowOperator
{
    private readonly SinkhornProblem _problem;
    private readonly SinkhornSquashing _squashing;
    private readonly SinkhornSolver _solver;
    private readonly SinkhornReadout _readout;
    private readonly double _sign;
    private readonly bool _implicit;

    /// <summary>The most targets the implicit VJP accepts: its Schur system holds m² doubles per thread (32 MiB at 2048).</summary>
    internal const int MaxImplicitTargets = 2048;

    /// <summary>
    /// The smallest ε accepted, 1e-6. The costs lie in [0, 1] (squashed inputs against targets in [0, 1]), so ε is
    /// relative to them; below 1e-6 the log-domain potentials carry (g − C)/ε beyond what double precision can resolve
    /// against the marginals, and the number of iterations Sinkhorn needs grows like 1/ε. For the hard limit use the
    /// permutahedron operators at ε = 0.
    /// </summary>
    public const double MinEpsilon = 1e-6;

    /// <summary>
    /// The largest n × m plan accepted (2²²): a row's workspace holds five n × m arrays of doubles (160 MiB per thread
    /// at the limit), and unrolled gradients keep iterations × (n + m) more (bounded by <see cref="MaxHistory"/>).
    /// </summary>
    public const long MaxPlanSize = 1L << 22;

    /// <summary>The largest MaxIterations × (n + m) history accepted (2²⁵ doubles, 256 MiB per thread).</summary>
    public const long MaxHistory = 1L << 25;

    /// <summary>Creates the operator for rows of <paramref name="dimension"/> values.</summary>
    /// <param name="dimension">Number n of values per row.</param>
    /// <param name="options">Settings; null for the defaults of <see cref="SinkhornOptions"/> (soft ranks, ε = 0.01, m = n
    /// uniform targets, logistic squashing, ascending, tolerance 1e-4, at most 1000 iterations).</param>
    /// <exception cref="ArgumentException">An option is out of range, or the plan would be too large (the message names the sizes).</exception>
    public SinkhornSorting(int dimension, SinkhornOptions? options = null)
        : this(dimension, options, static problem => new ScalingSinkhornSolver(problem))
    {
    }

    /// <summary>
    /// Creates the operator on another solver: the benchmark and the tests pass the log-domain one
    /// (<c>p =&gt; new LogDomainSinkhornSolver(p)</c>).
    /// </summary>
    internal SinkhornSorting(int dimension, SinkhornOptions? options, Func<SinkhornProblem, SinkhornSolver> createSolver)
        : base(dimension, OutputLength(dimension, options ?? new SinkhornOptions()))
    {
        options ??= new SinkhornOptions();
        if (!(options.Epsilon >= MinEpsilon) || !double.IsFinite(options.Epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Epsilon,
                $"'{nameof(options.Epsilon)}' must be a finite number ≥ {MinEpsilon} (costs lie in [0, 1]), got {options.Epsilon}; for the hard limit use the permutahedron operators at ε = 0.");
        }
        if (!(options.Tolerance >= 0) || options.MaxIterations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"'{nameof(options.Tolerance)}' must be ≥ 0 (0 runs every iteration) and '{nameof(options.MaxIterations)}' ≥ 1.");
        }
        if (!Enum.IsDefined(options.Output) || !Enum.IsDefined(options.Squashing) || !Enum.IsDefined(options.Direction))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Unknown output, squashing or direction.");
        }
        int targetCount = SinkhornProblem.TargetCount(dimension, options);
        if ((long)dimension * targetCount > MaxPlanSize)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension,
                $"A Sinkhorn plan of {dimension} values × {targetCount} targets ({(long)dimension * targetCount:N0} entries, {(long)dimension * targetCount * 40 / (1 << 20):N0} MiB per thread) exceeds the limit of {MaxPlanSize:N0} entries; use fewer targets ('{nameof(options.Targets)}') or the permutahedron operators, which are O(n log n).");
        }
        if ((long)options.MaxIterations * (dimension + targetCount) > MaxHistory)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxIterations,
                $"'{nameof(options.MaxIterations)}' × (n + m) = {options.MaxIterations} × {dimension + targetCount} exceeds the limit of {MaxHistory:N0} potentials kept for the unrolled gradient; lower '{nameof(options.MaxIterations)}'.");
        }
        if (options.ImplicitDifferentiation && targetCount > MaxImplicitTargets)
        {
            throw new ArgumentOutOfRangeException(nameof(options), targetCount,
                $"'{nameof(options.ImplicitDifferentiation)}' solves an m × m system per row and accepts at most {MaxImplicitTargets} targets, got m = {targetCount}; use fewer targets ('{nameof(options.Targets)}') or the unrolled VJP.");
        }
        MaxDegreeOfParallelism = options.MaxDegreeOfParallelism;
        _implicit = options.ImplicitDifferentiation;
        Output = options.Output;
        _sign = options.Direction == SortDirection.Ascending ? 1 : -1;
        _problem = new SinkhornProblem(dimension, options);
        _squashing = new SinkhornSquashing(options.Squashing);
        _solver = createSolver(_problem);
        _readout = new SinkhornReadout(options.Output, _sign, _problem);
    }

    /// <summary>What the operator computes.</summary>
    public SinkhornOutput Output { get; }

    /// <summary>Entropic regularization ε.</summary>
    public double Epsilon => _problem.Epsilon;

    /// <summary>Number m of transport targets.</summary>
    public int Targets => _problem.M;

    /// <summary>Most iterations per row.</summary>
    public int MaxIterations => _problem.MaxIterations;

    /// <summary>Stopping tolerance on the row-marginal error.</summary>
    public double Tolerance => _problem.Tolerance;

    /// <summary>Whether VJPs are implicit (<see cref="SinkhornOptions.ImplicitDifferentiation"/>) rather than unrolled (the default).</summary>
    public bool ImplicitDifferentiation => _implicit;

    /// <summary>
    /// Computes the operator on every row, as <see cref="RowOperator.Forward(ReadOnlySpan{float}, Span{float}, ulong)"/>
    /// does, and returns how this call's rows converged.
    /// </summary>
    /// <param name="theta">Inputs, <c>[batch × Dimension]</c>, finite.</param>
    /// <param name="solution">Destination, <c>[batch × OutputDimension]</c>.</param>
    /// <returns>This call's rows, those stopped at <see cref="MaxIterations"/> above the tolerance, the most iterations a row
    /// used and the worst final row-marginal error; the same whatever the thread count.</returns>
    public SinkhornConvergence ForwardWithReport(ReadOnlySpan<float> theta, Span<float> solution) =>
        RunWithReport(theta, solution, default, default, RowMode.Forward).Convergence;

    /// <summary>Computes the operator on every row in double precision and returns how this call's rows converged.</summary>
    /// <param name="theta">Inputs, <c>[batch × Dimension]</c>, finite.</param>
    /// <param name="solution">Destination, <c>[batch × OutputDimension]</c>.</param>
    /// <returns>How this call's rows converged (see <see cref="ForwardWithReport(ReadOnlySpan{float}, Span{float})"/>).</returns>
    public SinkhornConvergence ForwardWithReport(ReadOnlySpan<double> theta, Span<double> solution) =>
        RunWithReport(theta, solution, default, default, RowMode.Forward).Convergence;

    /// <summary>
    /// Computes the operator and the vector-Jacobian product gᵀJ of every row, as
    /// <see cref="RowOperator.ForwardVjp(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, ulong)"/>
    /// does, and returns how this call's rows converged.
    /// </summary>
    /// <param name="theta">Inputs, <c>[batch × Dimension]</c>.</param>
    /// <param name="cotangent">Cotangent g, <c>[batch × OutputDimension]</c>.</param>
    /// <param name="solution">Destination for the operator's output.</param>
    /// <param name="vjp">Destination for gᵀJ, <c>[batch × Dimension]</c>.</param>
    /// <returns>How this call's rows converged (see <see cref="ForwardWithReport(ReadOnlySpan{float}, Span{float})"/>).</returns>
    public SinkhornConvergence ForwardVjpWithReport(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp) =>
        RunWithReport(theta, solution, cotangent, vjp, RowMode.Vjp).Convergence;

    /// <summary>Computes the operator and gᵀJ of every row in double precision and returns how this call's rows converged.</summary>
    /// <param name="theta">Inputs, <c>[batch × Dimension]</c>.</param>
    /// <param name="cotangent">Cotangent g, <c>[batch × OutputDimension]</c>.</param>
    /// <param name="solution">Destination for the operator's output.</param>
    /// <param name="vjp">Destination for gᵀJ, <c>[batch × Dimension]</c>.</param>
    /// <returns>How this call's rows converged (see <see cref="ForwardWithReport(ReadOnlySpan{float}, Span{float})"/>).</returns>
    public SinkhornConvergence ForwardVjpWithReport(ReadOnlySpan<double> theta, ReadOnlySpan<double> cotangent, Span<double> solution, Span<double> vjp) =>
        RunWithReport(theta, solution, cotangent, vjp, RowMode.Vjp).Convergence;

    /// <summary>The forward pass and VJP, with the paths this call's iterations took (for the tests).</summary>
    internal SinkhornConvergence ForwardVjpWithReport<T>(ReadOnlySpan<T> theta, ReadOnlySpan<T> cotangent, Span<T> solution, Span<T> vjp, out SinkhornPathCounts paths)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        (SinkhornConvergence convergence, paths) = RunWithReport(theta, solution, cotangent, vjp, RowMode.Vjp);
        return convergence;
    }

    /// <summary>
    /// The transport plan P (n × m, row-major) of one row: a soft permutation matrix when m = n, with row sums ≈ 1/n
    /// (within the tolerance) and column sums equal to the target weights. Returns the number of iterations run.
    /// </summary>
    /// <param name="values">One row of <see cref="Layers.Layer.Dimension"/> finite values.</param>
    /// <param name="plan">Destination, n × m.</param>
    public int Plan(ReadOnlySpan<double> values, Span<double> plan)
    {
        Guard.Length(values.Length, Dimension, nameof(values), "one row");
        Guard.Length(plan.Length, Dimension * _problem.M, nameof(plan), "n × m");
        Guard.Finite(values, Dimension, nameof(values));
        var w = (SinkhornWorkspace)CreateWorkspace();
        for (int i = 0; i < Dimension; i++) w.Signed[i] = _sign * values[i];
        Transport(w, keepHistory: false);
        w.Plan.CopyTo(plan);
        return w.Iterations;
    }

    private static int OutputLength(int n, SinkhornOptions o) => o.Output switch
    {
        SinkhornOutput.Sort => SinkhornProblem.TargetCount(n, o),
        SinkhornOutput.Quantile => 1,
        SinkhornOutput.Rank or SinkhornOutput.Cdf or SinkhornOutput.QuantileNormalize => n,
        _ => throw new ArgumentOutOfRangeException(nameof(o), o.Output, "Unknown Sinkhorn output."),
    };

    private protected override RowWorkspace CreateWorkspace() => new SinkhornWorkspace(Dimension, _problem.M);

    private protected override void ComputeRow(RowWorkspace rw, RowMode mode)
    {
        var w = (SinkhornWorkspace)rw;
        for (int i = 0; i < Dimension; i++) w.Signed[i] = _sign * w.Input[i];
        w.ImplicitFallback = false;
        Transport(w, keepHistory: mode == RowMode.Vjp && !_implicit);
        _readout.Forward(w);
        if (mode != RowMode.Vjp)
        {
            return;
        }
        _readout.Backward(w);                        // ḡ → P̄, and x̄ of the sorted values' direct dependence on x
        if (!_implicit)
        {
            _solver.Backward(w);                     // P̄ → C̄, unrolled
        }
        else if (w.Capped || !SinkhornImplicitGradient.Backward(_problem, w))
        {
            // Not converged (or a Schur system with no solution): solve again keeping the iterates (the same plan, bit
            // for bit: the solve is deterministic and the cost is unchanged) and unroll.
            w.ImplicitFallback = true;
            _solver.Solve(w, keepHistory: true);
            _solver.Backward(w);
        }
        TransportCost.Backward(w, _problem.Grid);    // C̄ → x̃̄
        _squashing.Backward(w);                      // x̃̄ → x̄
        for (int i = 0; i < Dimension; i++) w.Derivative[i] = _sign * w.SignedBar[i];
    }

    /// <summary>x → x̃ → C → P.</summary>
    private void Transport(SinkhornWorkspace w, bool keepHistory)
    {
        _squashing.Forward(w);
        TransportCost.Fill(w, _problem.Grid);
        _solver.Solve(w, keepHistory);
    }

    private protected override unsafe void WriteReport(RowWorkspace w, void* reports, int row) =>
        ((SinkhornRowTrace*)reports)[row] = ((SinkhornWorkspace)w).Trace;

    /// <summary>Runs every row with a per-row trace, then reduces the traces in row order.</summary>
    private unsafe (SinkhornConvergence Convergence, SinkhornPathCounts Paths) RunWithReport<T>(ReadOnlySpan<T> theta, Span<T> solution, ReadOnlySpan<T> cotangent, Span<T> vjp, RowMode mode)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int batch = Guard.RowCount(theta.Length, Dimension, "theta");
        SinkhornRowTrace[] traces = ArrayPool<SinkhornRowTrace>.Shared.Rent(batch);
        try
        {
            fixed (SinkhornRowTrace* pTraces = traces)
            {
                Run(theta, solution, cotangent, vjp, mode, pTraces);
            }
            return SinkhornRowTrace.Reduce(traces.AsSpan(0, batch));
        }
        finally
        {
            ArrayPool<SinkhornRowTrace>.Shared.Return(traces);
        }
    }
}
