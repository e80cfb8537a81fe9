using System.Numerics.Tensors;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Soft ranks, CDF, sort, quantiles and quantile normalization by entropic optimal transport (Cuturi, Teboul, Vert
/// 2019, "Differentiable Ranking and Sorting using Optimal Transport"). A row x of n values, squashed into [0, 1],
/// is transported onto m targets y on a regular grid of [0, 1] with weights a = 1/n and b; the plan
/// P_ε = argmin_{P∈U(a,b)} ⟨P, C⟩ − εH(P), C_ij = (yⱼ − x̃ᵢ)², is found by Sinkhorn iterations, and the requested
/// output (<see cref="SinkhornOutput"/>) is read off P.
/// </summary>
/// <remarks>
/// <para><b>Gradients</b> (VJP only) are computed by unrolling the Sinkhorn iterations in reverse mode: they are the exact
/// derivative of the output actually computed (checked against finite differences), at 2–4 times the cost of the
/// forward pass and with the potentials of every iteration kept per thread (iterations × (n + m) doubles). Implicit
/// differentiation would need a linear solve of size n + m per row and is only exact at convergence; unrolling is the
/// simpler and more faithful choice at the sizes this operator is used for (it is O(n·m) per iteration anyway).</para>
/// <para>Iterations stop when the row-marginal error Σᵢ |(P1)ᵢ − aᵢ| falls below <see cref="SinkhornOptions.Tolerance"/>
/// (the column marginals are exact after every iteration) or after <see cref="SinkhornOptions.MaxIterations"/>.
/// A converged row is read out with a⁻¹ = n; a row stopped at the cap (<see cref="SinkhornConvergence.CappedRows"/>),
/// whose row masses may be far from a, is read out with its own masses (P1)ᵢ — a barycentre of the read-out values, so
/// ranks stay in [1, n] and sorted values in [min x, max x] after any number of iterations; the VJP differentiates
/// that read-out. The two agree at exact convergence.</para>
/// <para><b>Iterations in the scalings.</b> The log-domain update fᵢ = −ε LSEⱼ(log bⱼ + (gⱼ − Cᵢⱼ)/ε) costs one
/// exponential per plan entry and half-iteration. Writing f = α + ε log u and g = β + ε log v around absorbed
/// potentials (α, β), it is uᵢ = 1/Σⱼ bⱼK̃ᵢⱼvⱼ with K̃ = exp((α + β − C)/ε) computed once, so an iteration is two
/// matrix–vector products. The scalings are absorbed into (α, β) again when a sum leaves [10⁻⁵⁰, 10⁵⁰] (at small ε
/// and in early iterations), and an iteration that cannot be taken even then runs in the log domain, so the result
/// is the log-domain one to rounding at every ε (tested from 10⁻⁵ to 1). Forward passes are 5–11 times faster than
/// in the log domain, VJPs 5–6 times (bench/results/README.md).</para>
/// </remarks>
public sealed partial class SinkhornSorting : RowOperator
{
    private readonly double[] _targets, _logWeights, _weights, _cumulative, _values;
    private readonly double _sign, _tolerance;
    private readonly int _maxIterations;
    private readonly SinkhornOutput _output;
    private readonly Squashing _squashing;

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

    private long _rows, _cappedRows;
    private int _mostIterations;
    private double _worstError;

    /// <summary>Creates the operator for rows of <paramref name="dimension"/> values.</summary>
    /// <exception cref="ArgumentException">An option is out of range, or the plan would be too large (the message names the sizes).</exception>
    public SinkhornSorting(int dimension, SinkhornOptions? options = null)
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
        int targetCount = TargetCount(dimension, options);
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
        Epsilon = options.Epsilon;
        MaxDegreeOfParallelism = options.MaxDegreeOfParallelism;
        _output = options.Output;
        _squashing = options.Squashing;
        _tolerance = options.Tolerance;
        _maxIterations = options.MaxIterations;
        _sign = options.Direction == SortDirection.Ascending ? 1 : -1;
        int m = TargetCount(dimension, options);
        _targets = new double[m];
        _weights = new double[m];
        if (options.Output == SinkhornOutput.Quantile)
        {
            double t = options.QuantileWidth, tau = options.Level;
            if (!(t > 0 && t < 1) || !(tau > t / 2 && tau < 1 - t / 2))
            {
                throw new ArgumentOutOfRangeException(nameof(options), tau,
                    $"'{nameof(options.Level)}' τ must lie in (t/2, 1 − t/2) for the quantile width t = {t} (0 < t < 1), got τ = {tau}.");
            }
            _targets[0] = 0; _targets[1] = 0.5; _targets[2] = 1;
            _weights[0] = tau - t / 2; _weights[1] = t; _weights[2] = 1 - tau - t / 2;
        }
        else
        {
            for (int j = 0; j < m; j++) _targets[j] = m == 1 ? 0.5 : (double)j / (m - 1);
            if (options.TargetWeights is { } b)
            {
                if (b.Length != m || b.Any(v => !(v > 0) || !double.IsFinite(v)))
                {
                    throw new ArgumentException($"'{nameof(options.TargetWeights)}' must hold {m} positive finite weights, got {b.Length} values.", nameof(options));
                }
                double total = b.Sum();
                for (int j = 0; j < m; j++) _weights[j] = b[j] / total;
            }
            else
            {
                Array.Fill(_weights, 1.0 / m);
            }
        }
        _logWeights = _weights.Select(v => Math.Log(v)).ToArray();
        _cumulative = new double[m];
        for (int j = 0; j < m; j++) _cumulative[j] = (j > 0 ? _cumulative[j - 1] : 0) + _weights[j];
        _values = new double[m];
        if (options.Output == SinkhornOutput.QuantileNormalize)
        {
            double[] f = options.TargetValues
                ?? throw new ArgumentException($"'{nameof(options.TargetValues)}' (the {m} values to normalize to) is required for quantile normalization.", nameof(options));
            if (f.Length != m || f.Any(v => !double.IsFinite(v)))
            {
                throw new ArgumentException($"'{nameof(options.TargetValues)}' must hold {m} finite values, got {f.Length}.", nameof(options));
            }
            for (int j = 1; j < m; j++)
            {
                if (f[j] < f[j - 1])
                {
                    throw new ArgumentException($"'{nameof(options.TargetValues)}' must be sorted ascending; entry {j} ({f[j]}) is below entry {j - 1} ({f[j - 1]}).", nameof(options));
                }
            }
            f.CopyTo(_values, 0);
        }
    }

    /// <summary>What the operator computes.</summary>
    public SinkhornOutput Output => _output;

    /// <summary>Entropic regularization ε.</summary>
    public double Epsilon { get; }

    /// <summary>Number m of transport targets.</summary>
    public int Targets => _targets.Length;

    /// <summary>Most iterations per row.</summary>
    public int MaxIterations => _maxIterations;

    /// <summary>Stopping tolerance on the row-marginal error.</summary>
    public double Tolerance => _tolerance;

    /// <summary>
    /// How the rows computed so far converged (thread-safe, cumulative since creation or <see cref="ResetConvergence"/>):
    /// rows, rows stopped by <see cref="MaxIterations"/> before reaching the tolerance, the most iterations a row used,
    /// and the worst final row-marginal error.
    /// </summary>
    public SinkhornConvergence Convergence
    {
        get
        {
            lock (_targets)
            {
                return new SinkhornConvergence(_rows, _cappedRows, _mostIterations, _worstError);
            }
        }
    }

    /// <summary>Clears <see cref="Convergence"/>.</summary>
    public void ResetConvergence()
    {
        lock (_targets)
        {
            (_rows, _cappedRows, _mostIterations, _worstError, _logIterations, _absorptions) = (0, 0, 0, 0, 0, 0);
        }
    }

    /// <summary>Iterations taken in the log domain and kernel recomputations so far (diagnostics for the tests).</summary>
    internal (long LogIterations, long Absorptions) PathCounts
    {
        get
        {
            lock (_targets)
            {
                return (_logIterations, _absorptions);
            }
        }
    }

    private long _logIterations, _absorptions;

    private void Record(int iterations, double error, int logIterations, int absorptions)
    {
        lock (_targets)
        {
            _logIterations += logIterations;
            _absorptions += absorptions;
            _rows++;
            if (iterations >= _maxIterations && !(error < _tolerance)) _cappedRows++;   // the predicate of Workspace.Capped
            _mostIterations = Math.Max(_mostIterations, iterations);
            _worstError = Math.Max(_worstError, error);
        }
    }

    /// <summary>
    /// The transport plan P (n × m, row-major) of one row: a soft permutation matrix when m = n, with row sums ≈ 1/n
    /// (within the tolerance) and column sums equal to the target weights. Returns the number of iterations run.
    /// </summary>
    public int Plan(ReadOnlySpan<double> values, Span<double> plan)
    {
        Guard.Length(values.Length, Dimension, nameof(values), "one row");
        Guard.Length(plan.Length, Dimension * _targets.Length, nameof(plan), "n × m");
        Guard.Finite(values, Dimension, nameof(values));
        var w = (Workspace)CreateWorkspace();
        for (int i = 0; i < Dimension; i++) w.Signed[i] = _sign * values[i];
        Squash(w);
        Transport(w, keepHistory: false);
        w.Plan.CopyTo(plan);
        return w.Iterations;
    }

    private static int TargetCount(int n, SinkhornOptions o) =>
        o.Output == SinkhornOutput.Quantile ? 3 : o.Targets == 0 ? n : o.Targets > 0 ? o.Targets
            : throw new ArgumentOutOfRangeException(nameof(o), o.Targets, $"'{nameof(o.Targets)}' must be ≥ 0 (0: as many as inputs).");

    private static int OutputLength(int n, SinkhornOptions o) => o.Output switch
    {
        SinkhornOutput.Sort => TargetCount(n, o),
        SinkhornOutput.Quantile => 1,
        SinkhornOutput.Rank or SinkhornOutput.Cdf or SinkhornOutput.QuantileNormalize => n,
        _ => throw new ArgumentOutOfRangeException(nameof(o), o.Output, "Unknown Sinkhorn output."),
    };

    private protected override RowWorkspace CreateWorkspace() => new Workspace(Dimension, _targets.Length);

    private protected override void ComputeRow(RowWorkspace rw, RowMode mode)
    {
        var w = (Workspace)rw;
        int n = Dimension, m = _targets.Length;
        double[] x = w.Signed;
        for (int i = 0; i < n; i++) x[i] = _sign * w.Input[i];
        Squash(w);
        Transport(w, keepHistory: mode == RowMode.Vjp);
        double[] p = w.Plan;
        SinkhornOutput output = _output;
        double k = output == SinkhornOutput.Rank ? n : 1;   // ranks are n·CDF
        double[] mass = w.RowMass;
        switch (output)
        {
            case SinkhornOutput.Rank:
            case SinkhornOutput.Cdf:
            case SinkhornOutput.QuantileNormalize:
                // A converged row is read with a⁻¹ = n (its mass is a within the tolerance). A row stopped at the cap is
                // read with its own mass rᵢ = Σⱼ Pᵢⱼ (the last update fixed only the columns): a barycentre of the
                // read-out values, so ranks stay in [n·b₁, n], CDFs in [b₁, 1] and normalized values in [min f, max f].
                double[] readout = output == SinkhornOutput.QuantileNormalize ? _values : _cumulative;
                for (int i = 0; i < n; i++)
                {
                    ReadOnlySpan<double> row = p.AsSpan(i * m, m);
                    if (w.Capped) mass[i] = SpanMath.Sum(row);
                    w.Output[i] = w.Capped ? k * SpanMath.Dot(row, readout) / mass[i] : k * n * SpanMath.Dot(row, readout);
                }
                break;
            case SinkhornOutput.Sort:
            case SinkhornOutput.Quantile:
                // Σᵢ Pᵢⱼxᵢ/bⱼ: the last update fixed the columns, so this is a barycentre of x; a capped row divides by the
                // computed column masses cⱼ = Σᵢ Pᵢⱼ (bⱼ up to rounding, which at ε near MinEpsilon reaches 1e-10).
                Array.Clear(w.Sorted);
                for (int i = 0; i < n; i++) SpanMath.AddScaled(w.Sorted, p.AsSpan(i * m, m), x[i]);   // Σᵢ Pᵢⱼxᵢ
                Span<double> columns = w.ColumnMass;
                if (w.Capped)
                {
                    columns.Clear();
                    for (int i = 0; i < n; i++) SpanMath.AddScaled(columns, p.AsSpan(i * m, m), 1);
                }
                else
                {
                    _weights.CopyTo(columns);
                }
                for (int j = 0; j < m; j++) w.Sorted[j] /= columns[j];
                if (output == SinkhornOutput.Sort)
                {
                    for (int j = 0; j < m; j++) w.Output[j] = _sign * w.Sorted[j];
                }
                else
                {
                    w.Output[0] = _sign * w.Sorted[1];
                }
                break;
        }
        if (mode != RowMode.Vjp)
        {
            return;
        }

        // Adjoint of the read-out: P̄ (n × m), plus the direct dependence of sorted values on x.
        double[] pBar = w.PlanBar, xBar = w.SignedBar;
        Array.Clear(xBar);
        double[] g = w.Direction;
        switch (output)
        {
            case SinkhornOutput.Rank:
            case SinkhornOutput.Cdf:
            case SinkhornOutput.QuantileNormalize:
                // outᵢ = k·⟨Pᵢ, R⟩/rᵢ: ∂outᵢ/∂Pᵢⱼ = (k·Rⱼ − outᵢ)/rᵢ with rᵢ = Σⱼ Pᵢⱼ (capped), or k·n·Rⱼ with rᵢ = a fixed.
                double[] readout = output == SinkhornOutput.QuantileNormalize ? _values : _cumulative;
                for (int i = 0; i < n; i++)
                {
                    Span<double> row = pBar.AsSpan(i * m, m);
                    double scale = w.Capped ? k / mass[i] : k * n;
                    TensorPrimitives.Multiply(readout, scale * g[i], row);
                    if (w.Capped) TensorPrimitives.Add(row, -g[i] * w.Output[i] / mass[i], row);
                }
                break;
            case SinkhornOutput.Sort:
            case SinkhornOutput.Quantile:
                // sortedⱼ = Σᵢ Pᵢⱼxᵢ/cⱼ: ∂/∂Pᵢⱼ = (xᵢ − sortedⱼ)/cⱼ (cⱼ = bⱼ fixed when converged: xᵢ/bⱼ), ∂/∂xᵢ = Pᵢⱼ/cⱼ.
                double[] sortedBar = w.SortedBar;   // ±gⱼ/cⱼ
                for (int j = 0; j < m; j++)
                {
                    double gj = output == SinkhornOutput.Sort ? g[j] : j == 1 ? g[0] : 0;
                    sortedBar[j] = _sign * gj / w.ColumnMass[j];
                }
                for (int i = 0; i < n; i++)
                {
                    Span<double> row = pBar.AsSpan(i * m, m);
                    TensorPrimitives.Multiply(sortedBar, x[i], row);
                    if (w.Capped) SpanMath.AddScaledProduct(row, sortedBar, w.Sorted, -1);
                    xBar[i] = SpanMath.Dot(p.AsSpan(i * m, m), sortedBar);
                }
                break;
        }
        TransportBackward(w);
        SquashBackward(w);
        for (int i = 0; i < n; i++) w.Derivative[i] = _sign * xBar[i];
    }

    /// <summary>x̃ = squash(standardize(x)), and the cost matrix C (and its transpose) against the targets.</summary>
    private void Squash(Workspace w)
    {
        int n = Dimension, m = _targets.Length;
        double[] x = w.Signed, xt = w.Squashed, z = w.Standardized;
        if (_squashing == Squashing.None)
        {
            x.CopyTo(xt, 0);
        }
        else
        {
            double mean = x.Average(), variance = 0;
            for (int i = 0; i < n; i++) variance += (x[i] - mean) * (x[i] - mean);
            w.Mean = mean;
            w.Std = Math.Sqrt(variance / n);
            for (int i = 0; i < n; i++)
            {
                z[i] = (x[i] - mean) / (w.Std + StdFloor);
                xt[i] = _squashing == Squashing.Logistic ? 1 / (1 + Math.Exp(-z[i])) : 0.5 + Math.Atan(z[i]) / Math.PI;
            }
        }
        for (int i = 0; i < n; i++)
        {
            Span<double> row = w.Cost.AsSpan(i * m, m);
            if (m >= VectorMinimum)
            {
                TensorPrimitives.Subtract(_targets, xt[i], row);
                TensorPrimitives.Multiply(row, row, row);
                continue;
            }
            for (int j = 0; j < m; j++)
            {
                double d = _targets[j] - xt[i];
                row[j] = d * d;
            }
        }
    }

    private const double StdFloor = 1e-12;

    /// <summary>The transposed cost, which only log-domain iterations read: filled on the first one of a row.</summary>
    private void TransposeCost(Workspace w)
    {
        int n = Dimension, m = _targets.Length;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                w.CostT[j * n + i] = w.Cost[i * m + j];
        w.CostTransposed = true;
    }
    /// <summary>x̃̄ → x̄ through the squashing and the standardization (adds to <c>w.SignedBar</c>).</summary>
    private void SquashBackward(Workspace w)
    {
        int n = Dimension;
        double[] xBar = w.SignedBar, xtBar = w.SquashedBar, z = w.Standardized, xt = w.Squashed, x = w.Signed;
        if (_squashing == Squashing.None)
        {
            for (int i = 0; i < n; i++) xBar[i] += xtBar[i];
            return;
        }
        double sigma = w.Std + StdFloor, zBarMean = 0, zBarDot = 0;
        Span<double> zBar = w.ZBar;
        for (int i = 0; i < n; i++)
        {
            zBar[i] = _squashing == Squashing.Logistic ? xtBar[i] * xt[i] * (1 - xt[i]) : xtBar[i] / (Math.PI * (1 + z[i] * z[i]));
            zBarMean += zBar[i] / n;
            zBarDot += zBar[i] * (x[i] - w.Mean);
        }
        // zᵢ = (xᵢ − μ)/(s + δ): x̄ₖ = (z̄ₖ − mean z̄)/(s + δ) − (xₖ − μ)·Σᵢ z̄ᵢ(xᵢ − μ)/(n·s·(s + δ)²).
        for (int k = 0; k < n; k++)
        {
            double v = (zBar[k] - zBarMean) / sigma;
            if (w.Std > 0) v -= (x[k] - w.Mean) * zBarDot / (n * w.Std * sigma * sigma);
            xBar[k] += v;
        }
    }
}
