using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

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
/// (the column marginals are exact after every iteration) or after <see cref="SinkhornOptions.MaxIterations"/>.</para>
/// <para><b>Iterations in the scalings.</b> The log-domain update fᵢ = −ε LSEⱼ(log bⱼ + (gⱼ − Cᵢⱼ)/ε) costs one
/// exponential per plan entry and half-iteration. Writing f = α + ε log u and g = β + ε log v around absorbed
/// potentials (α, β), it is uᵢ = 1/Σⱼ bⱼK̃ᵢⱼvⱼ with K̃ = exp((α + β − C)/ε) computed once, so an iteration is two
/// matrix–vector products. The scalings are absorbed into (α, β) again when a sum leaves [10⁻⁵⁰, 10⁵⁰] (at small ε
/// and in early iterations), and an iteration that cannot be taken even then runs in the log domain, so the result
/// is the log-domain one to rounding at every ε (tested from 10⁻⁵ to 1). Forward passes are 5–11 times faster than
/// in the log domain, VJPs 5–6 times (bench/results/README.md).</para>
/// </remarks>
public sealed class SinkhornSorting : RowOperator
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
            if (iterations >= _maxIterations && !(error < _tolerance)) _cappedRows++;
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
        double rowScale = output == SinkhornOutput.Rank ? (double)n * n : n;   // a⁻¹ = n; ranks are n·CDF
        switch (output)
        {
            case SinkhornOutput.Rank:
            case SinkhornOutput.Cdf:
            case SinkhornOutput.QuantileNormalize:
                double[] readout = output == SinkhornOutput.QuantileNormalize ? _values : _cumulative;
                for (int i = 0; i < n; i++)
                {
                    w.Output[i] = rowScale * SpanMath.Dot(p.AsSpan(i * m, m), readout);
                }
                break;
            case SinkhornOutput.Sort:
            case SinkhornOutput.Quantile:
                Array.Clear(w.Sorted);
                for (int i = 0; i < n; i++) SpanMath.AddScaled(w.Sorted, p.AsSpan(i * m, m), x[i]);   // Σᵢ Pᵢⱼxᵢ
                for (int j = 0; j < m; j++) w.Sorted[j] /= _weights[j];
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
                double[] readout = output == SinkhornOutput.QuantileNormalize ? _values : _cumulative;
                for (int i = 0; i < n; i++)
                {
                    TensorPrimitives.Multiply(readout, rowScale * g[i], pBar.AsSpan(i * m, m));
                }
                break;
            case SinkhornOutput.Sort:
            case SinkhornOutput.Quantile:
                double[] sortedBar = w.SortedBar;   // ∂L/∂(Σᵢ Pᵢⱼxᵢ) = ±gⱼ/bⱼ
                for (int j = 0; j < m; j++)
                {
                    double gj = output == SinkhornOutput.Sort ? g[j] : j == 1 ? g[0] : 0;
                    sortedBar[j] = _sign * gj / _weights[j];
                }
                for (int i = 0; i < n; i++)
                {
                    TensorPrimitives.Multiply(sortedBar, x[i], pBar.AsSpan(i * m, m));
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

    /// <summary>
    /// Sinkhorn iterations. The potentials are kept as f = α + ε log u, g = β + ε log v around absorbed potentials
    /// (α, β) whose kernel K̃ᵢⱼ = exp((αᵢ + βⱼ − Cᵢⱼ)/ε) is computed once; each iteration then is two matrix–vector
    /// products, uᵢ = 1/Σⱼ bⱼK̃ᵢⱼvⱼ and vⱼ = 1/Σᵢ aK̃ᵢⱼuᵢ, with no exponential (the log-domain update
    /// fᵢ = −ε LSEⱼ(log bⱼ + (gⱼ − Cᵢⱼ)/ε) written in the scalings). Whenever a sum leaves [10⁻⁵⁰, 10⁵⁰] the scalings
    /// are absorbed into (α, β) and K̃ recomputed; an iteration that still cannot be taken in the scalings (small ε, a
    /// large first step) is taken in the log domain. Both forms are the same map; what the window changes is only
    /// which kernel entries below 10⁻³⁰⁸ are dropped, relatively below 10⁻²⁰⁰ of every sum.
    /// P = a·bⱼ·uᵢK̃ᵢⱼvⱼ.
    /// </summary>
    private void Transport(Workspace w, bool keepHistory)
    {
        int n = Dimension, m = _targets.Length;
        double eps = Epsilon;
        double[] alpha = w.Alpha, beta = w.Beta, u = w.U, v = w.V;
        Array.Clear(alpha);
        Array.Clear(beta);
        w.LogIterations = w.Absorptions = 0;
        w.CostTransposed = false;
        Absorb(w);
        bool fresh = true, scaling = ScalingIterations;
        int t = 0;
        double error = double.PositiveInfinity;
        while (true)
        {
            if (keepHistory) w.EnsureHistory(t + 1);
            bool taken = scaling && ScalingIteration(w, out error);
            if (!taken && scaling && !fresh)
            {
                // Out of the window: absorb the scalings and try again from u = v = 1.
                Potentials(u, alpha, eps, alpha, w.Buffer);
                Potentials(v, beta, eps, beta, w.Buffer);
                Absorb(w);
                taken = ScalingIteration(w, out error);
            }
            if (!taken)
            {
                error = LogIteration(w);
                w.LogIterations++;
                if (scaling) Absorb(w);
            }
            fresh = !taken;
            if (keepHistory)
            {
                Span<double> ft = w.HistoryF.AsSpan(t * n, n), gt = w.HistoryG.AsSpan(t * m, m);
                if (scaling)
                {
                    Potentials(u, alpha, eps, ft, w.Buffer);
                    Potentials(v, beta, eps, gt, w.Buffer);
                }
                else
                {
                    alpha.CopyTo(ft);
                    beta.CopyTo(gt);
                }
            }
            t++;
            if (t >= _maxIterations || (t > 1 && error < _tolerance))
            {
                w.MarginalError = error;
                break;
            }
        }
        w.Iterations = t;
        Record(t, w.MarginalError, w.LogIterations, w.Absorptions);
        if (!scaling) Absorb(w);   // the log-domain iterate's kernel: P = a·b·K̃ with u = v = 1
        Span<double> bv = w.Bv;
        SpanMath.ScaledProduct(_weights, v, 1.0 / n, bv);
        for (int i = 0; i < n; i++)
        {
            SpanMath.ScaledProduct(w.Kernel.AsSpan(i * m, m), bv, u[i], w.Plan.AsSpan(i * m, m));
        }
    }

    /// <summary>
    /// Run the iterations in the scalings (true, the default) or only in the log domain (the previous algorithm, one
    /// exponential per plan entry and half-iteration; kept for the benchmark's same-run baseline and the tests that
    /// check both forms agree).
    /// </summary>
    internal bool ScalingIterations { get; init; } = true;

    /// <summary>Scalings kept within [1/<see cref="ScalingBound"/>, <see cref="ScalingBound"/>] (see <see cref="Transport"/>).</summary>
    private const double ScalingBound = 1e50;

    /// <summary>|log| of <see cref="ScalingBound"/>: the largest (f − α)/ε the backward pass reads through K̃.</summary>
    private const double LogScalingBound = 115.1;

    /// <summary>destination = α + ε log u: the potentials of the scalings.</summary>
    private static void Potentials(ReadOnlySpan<double> scalings, ReadOnlySpan<double> absorbed, double eps, Span<double> destination, Span<double> scratch)
    {
        if (scalings.Length < VectorMinimum)
        {
            for (int i = 0; i < scalings.Length; i++) destination[i] = absorbed[i] + eps * Math.Log(scalings[i]);
            return;
        }
        Span<double> logs = scratch[..scalings.Length];   // destination may be absorbed itself
        TensorPrimitives.Log(scalings, logs);
        TensorPrimitives.MultiplyAdd(logs, eps, absorbed, destination);
    }

    /// <summary>K̃ᵢⱼ = exp((αᵢ + βⱼ − Cᵢⱼ)/ε) and u = v = 1: the potentials (α, β) absorbed into the kernel.</summary>
    private void Absorb(Workspace w)
    {
        int n = Dimension, m = _targets.Length;
        double inverseEps = 1 / Epsilon;
        for (int i = 0; i < n; i++)
        {
            Kernel(w.Beta, w.Cost.AsSpan(i * m, m), inverseEps, default, w.Alpha[i] * inverseEps, w.Kernel.AsSpan(i * m, m));
        }
        w.Absorptions++;
        Array.Fill(w.U, 1.0);
        Array.Fill(w.V, 1.0);
    }

    /// <summary>
    /// One iteration in the scalings, committed only if every sum stays in the window (false: nothing changed). The
    /// row-marginal error before the update, Σᵢ |(P1)ᵢ/aᵢ − 1|/n, is Σᵢ |uᵢsᵢ − 1|/n with sᵢ = Σⱼ bⱼK̃ᵢⱼvⱼ.
    /// </summary>
    private bool ScalingIteration(Workspace w, out double error)
    {
        int n = Dimension, m = _targets.Length;
        double[] kernel = w.Kernel, u = w.U, uNew = w.UNew, vNew = w.VNew;
        Span<double> bv = w.Bv;
        error = 0;
        SpanMath.ScaledProduct(_weights, w.V, 1, bv);
        Array.Clear(vNew);
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> row = kernel.AsSpan(i * m, m);
            double sum = SpanMath.Dot(row, bv);
            if (!(sum >= 1 / ScalingBound && sum <= ScalingBound)) return false;
            error += Math.Abs(u[i] * sum - 1);
            uNew[i] = 1 / sum;
            SpanMath.AddScaled(vNew, row, uNew[i]);   // Σᵢ K̃ᵢⱼuᵢ, accumulated row by row
        }
        double a = 1.0 / n;
        for (int j = 0; j < m; j++)
        {
            double sum = a * vNew[j];
            if (!(sum >= 1 / ScalingBound && sum <= ScalingBound)) return false;
            vNew[j] = 1 / sum;
        }
        error /= n;
        uNew.CopyTo(u, 0);
        vNew.CopyTo(w.V, 0);
        return true;
    }

    /// <summary>
    /// One log-domain iteration on the potentials (α, β) in place: fᵢ = −ε LSEⱼ(log bⱼ + (gⱼ − Cᵢⱼ)/ε), then
    /// gⱼ = −ε LSEᵢ(log aᵢ + (fᵢ − Cᵢⱼ)/ε) over the transposed cost's row j. Returns the row-marginal error before the
    /// update, Σᵢ |exp((fᵢ − fᵢ_new)/ε) − 1|/n.
    /// </summary>
    private double LogIteration(Workspace w)
    {
        int n = Dimension, m = _targets.Length;
        double eps = Epsilon, inverseEps = 1 / eps, logA = -Math.Log(n), error = 0;
        double[] f = w.Alpha, g = w.Beta;
        if (!w.CostTransposed) TransposeCost(w);
        Span<double> rowBuffer = w.Buffer.AsSpan(0, m), columnBuffer = w.Buffer.AsSpan(0, n);
        for (int i = 0; i < n; i++)
        {
            Exponent(g, w.Cost.AsSpan(i * m, m), inverseEps, _logWeights, rowBuffer);
            double fNew = -eps * LogSumExp(rowBuffer);
            error += Math.Abs(Math.Exp((f[i] - fNew) / eps) - 1) / n;
            f[i] = fNew;
        }
        for (int j = 0; j < m; j++)
        {
            Exponent(f, w.CostT.AsSpan(j * n, n), inverseEps, default, columnBuffer);
            g[j] = -eps * (logA + LogSumExp(columnBuffer));
        }
        return error;
    }

    /// <summary>Below this length the scalar loops beat the vector ones (per-call overhead; measured at n = m = 10).</summary>
    private const int VectorMinimum = 32;

    /// <summary>
    /// destination = (potential − cost)/ε + logWeights, elementwise (logWeights empty: none): the exponent of a Gibbs
    /// kernel.
    /// </summary>
    private static void Exponent(ReadOnlySpan<double> potential, ReadOnlySpan<double> cost, double inverseEps, ReadOnlySpan<double> logWeights, Span<double> destination)
    {
        if (destination.Length < VectorMinimum)
        {
            for (int j = 0; j < destination.Length; j++) destination[j] = (potential[j] - cost[j]) * inverseEps + (logWeights.IsEmpty ? 0 : logWeights[j]);
            return;
        }
        TensorPrimitives.Subtract(potential, cost, destination);
        if (logWeights.IsEmpty) TensorPrimitives.Multiply(destination, inverseEps, destination);
        else TensorPrimitives.MultiplyAdd(destination, inverseEps, logWeights, destination);
    }

    /// <summary>destination = exp((potential − cost)/ε + logWeights + shift): a row of the plan or of a softmax Jacobian.</summary>
    private static void Kernel(ReadOnlySpan<double> potential, ReadOnlySpan<double> cost, double inverseEps, ReadOnlySpan<double> logWeights, double shift, Span<double> destination)
    {
        Exponent(potential, cost, inverseEps, logWeights, destination);
        if (destination.Length < VectorMinimum)
        {
            for (int j = 0; j < destination.Length; j++) destination[j] = Math.Exp(destination[j] + shift);
            return;
        }
        TensorPrimitives.Add(destination, shift, destination);
        SpanMath.Exp(destination, destination);
    }

    /// <summary>log Σ exp(vᵢ), stably; overwrites <paramref name="values"/> with exp(vᵢ − max).</summary>
    private static double LogSumExp(Span<double> values)
    {
        if (values.Length < VectorMinimum)
        {
            double top = double.NegativeInfinity, total = 0;
            foreach (double v in values) top = Math.Max(top, v);
            for (int j = 0; j < values.Length; j++) total += values[j] = Math.Exp(values[j] - top);
            return top + Math.Log(total);
        }
        double max = TensorPrimitives.Max(values);
        TensorPrimitives.Subtract(values, max, values);
        SpanMath.Exp(values, values);
        return max + Math.Log(SpanMath.Sum(values));
    }

    /// <summary>
    /// Reverse mode through the plan and every Sinkhorn iteration: P̄ → C̄ → x̃̄ (into <c>w.SquashedBar</c>). The
    /// softmax matrices of iteration t are read through the final kernel, Qᵢⱼ = a·ũᵢK̃ᵢⱼṽⱼ with
    /// ũᵢ = exp((fᵢᵗ − αᵢ)/ε), whenever those ratios lie in the scaling window; otherwise (early iterations at small
    /// ε) each entry is exponentiated from the potentials.
    /// </summary>
    private void TransportBackward(Workspace w)
    {
        int n = Dimension, m = _targets.Length, iterations = w.Iterations;
        double eps = Epsilon, inverseEps = 1 / eps, logA = -Math.Log(n), a = 1.0 / n;
        double[] fBar = w.FBar, gBar = w.GBar, cBar = w.PlanBar, p = w.Plan, cost = w.Cost, kernel = w.Kernel;
        Array.Clear(fBar);
        Array.Clear(gBar);
        // P = exp(log a + log b + (f + g − C)/ε): W = P̄ ⊙ P/ε flows to f, g and −C. C̄ overwrites P̄ in place.
        for (int i = 0; i < n; i++)
        {
            Span<double> row = cBar.AsSpan(i * m, m);
            SpanMath.ScaledProduct(row, p.AsSpan(i * m, m), -inverseEps, row);   // −W
            fBar[i] = -SpanMath.Sum(row);
            SpanMath.AddScaled(gBar, row, -1);
        }
        Span<double> q = w.Buffer.AsSpan(0, m), ut = w.UNew, vt = w.VNew, vPrev = w.V, scaled = w.Bv, previous = w.Previous;
        bool kernelPath = ScalingIterations, carried = false;
        for (int t = iterations - 1; t >= 0; t--)
        {
            ReadOnlySpan<double> ft = w.HistoryF.AsSpan(t * n, n), gt = w.HistoryG.AsSpan(t * m, m);
            ReadOnlySpan<double> gPrev = t > 0 ? w.HistoryG.AsSpan((t - 1) * m, m) : w.Zeros;
            bool rowRatios = kernelPath && Ratios(ft, w.Alpha, inverseEps, ut);
            bool columnRatios = rowRatios && (carried || Ratios(gt, w.Beta, inverseEps, vt));
            bool previousRatios = rowRatios && Ratios(gPrev, w.Beta, inverseEps, vPrev);
            // gⱼ = −ε LSEᵢ(log a + (fᵢ − Cᵢⱼ)/ε): ∂gⱼ/∂fᵢ = −Qᵢⱼ, ∂gⱼ/∂Cᵢⱼ = Qᵢⱼ, Q the column softmax
            // Qᵢⱼ = exp(log a + (fᵢ − Cᵢⱼ + gⱼ)/ε) (≤ 1: the columns sum to 1).
            // fᵢ = −ε LSEⱼ(log bⱼ + (gⱼ_prev − Cᵢⱼ)/ε): ∂fᵢ/∂gⱼ_prev = −Q′ᵢⱼ, ∂fᵢ/∂Cᵢⱼ = Q′ᵢⱼ, Q′ the row softmax
            // Q′ᵢⱼ = exp(log bⱼ + (gⱼ_prev − Cᵢⱼ + fᵢ)/ε).
            if (columnRatios && previousRatios)
            {
                // Both through K̃ (Q = a·ũK̃ṽ, Q′ = ũK̃·bṽ_prev), one pass over each kernel row: row i's f̄ᵢ is final
                // once its Q row is applied, so its Q′ row follows at once.
                SpanMath.ScaledProduct(vt, gBar, a, scaled);          // a·ṽⱼḡⱼ
                SpanMath.ScaledProduct(_weights, vPrev, 1, previous); // bⱼṽⱼ_prev
                Array.Clear(gBar);
                for (int i = 0; i < n; i++)
                {
                    ReadOnlySpan<double> row = kernel.AsSpan(i * m, m);
                    fBar[i] -= ut[i] * SpanMath.Dot(row, scaled);
                    double c = fBar[i] * ut[i];
                    BackwardRow(row, scaled, previous, ut[i], c, gBar, cBar.AsSpan(i * m, m));
                }
                for (int j = 0; j < m; j++) gBar[j] *= -previous[j];
            }
            else
            {
                for (int i = 0; i < n; i++)
                {
                    Span<double> cBarRow = cBar.AsSpan(i * m, m);
                    Kernel(gt, cost.AsSpan(i * m, m), inverseEps, default, logA + ft[i] * inverseEps, q);
                    fBar[i] -= SpanMath.Dot(gBar, q);
                    SpanMath.AddScaledProduct(cBarRow, gBar, q, 1);
                }
                Array.Clear(gBar);
                for (int i = 0; i < n; i++)
                {
                    if (fBar[i] == 0) continue;
                    Span<double> cBarRow = cBar.AsSpan(i * m, m);
                    Kernel(gPrev, cost.AsSpan(i * m, m), inverseEps, _logWeights, ft[i] * inverseEps, q);
                    SpanMath.AddScaled(gBar, q, -fBar[i]);
                    SpanMath.AddScaled(cBarRow, q, fBar[i]);
                }
            }
            Array.Clear(fBar);
            // Iteration t − 1's column ratios are this one's previous ones: carry them instead of exponentiating again.
            carried = previousRatios;
            if (carried)
            {
                Span<double> swap = vt;
                vt = vPrev;
                vPrev = swap;
            }
        }
        // Cᵢⱼ = (yⱼ − x̃ᵢ)²:
        // x̃̄ᵢ = Σⱼ C̄ᵢⱼ·(−2)(yⱼ − x̃ᵢ) = −2(⟨C̄ᵢ, y⟩ − x̃ᵢ Σⱼ C̄ᵢⱼ).
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> row = cBar.AsSpan(i * m, m);
            w.SquashedBar[i] = -2 * (SpanMath.Dot(row, _targets) - w.Squashed[i] * SpanMath.Sum(row));
        }
    }

    /// <summary>acc += c·k and cBar += k ⊙ (p·s + c·s′), one pass over a kernel row.</summary>
    private static void BackwardRow(ReadOnlySpan<double> k, ReadOnlySpan<double> s, ReadOnlySpan<double> sPrime, double p, double c, Span<double> acc, Span<double> cBar)
    {
        int m = k.Length, j = 0;
        s = s[..m]; sPrime = sPrime[..m]; acc = acc[..m]; cBar = cBar[..m];
        if (Vector.IsHardwareAccelerated && m >= Vector<double>.Count)
        {
            var pv = new Vector<double>(p);
            var cv = new Vector<double>(c);
            ReadOnlySpan<Vector<double>> kv = MemoryMarshal.Cast<double, Vector<double>>(k);
            ReadOnlySpan<Vector<double>> sv = MemoryMarshal.Cast<double, Vector<double>>(s);
            ReadOnlySpan<Vector<double>> spv = MemoryMarshal.Cast<double, Vector<double>>(sPrime);
            Span<Vector<double>> av = MemoryMarshal.Cast<double, Vector<double>>(acc);
            Span<Vector<double>> cb = MemoryMarshal.Cast<double, Vector<double>>(cBar);
            for (int x = 0; x < kv.Length; x++)
            {
                av[x] = Vector.FusedMultiplyAdd(cv, kv[x], av[x]);
                cb[x] = Vector.FusedMultiplyAdd(kv[x], Vector.FusedMultiplyAdd(cv, spv[x], pv * sv[x]), cb[x]);
            }
            j = kv.Length * Vector<double>.Count;
        }
        for (; j < m; j++)
        {
            acc[j] = Math.FusedMultiplyAdd(c, k[j], acc[j]);
            cBar[j] = Math.FusedMultiplyAdd(k[j], Math.FusedMultiplyAdd(c, sPrime[j], p * s[j]), cBar[j]);
        }
    }

    /// <summary>
    /// destination = exp((potential − absorbed)/ε), the scalings of a stored iterate against the final kernel; false
    /// (destination unspecified) when one lies outside the scaling window.
    /// </summary>
    private static bool Ratios(ReadOnlySpan<double> potential, ReadOnlySpan<double> absorbed, double inverseEps, Span<double> destination)
    {
        for (int i = 0; i < potential.Length; i++)
        {
            double e = (potential[i] - absorbed[i]) * inverseEps;
            if (!(Math.Abs(e) <= LogScalingBound)) return false;
            destination[i] = e;
        }
        SpanMath.Exp(destination[..potential.Length], destination[..potential.Length]);
        return true;
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

    private sealed class Workspace : RowWorkspace
    {
        private readonly int _n, _m;

        public Workspace(int n, int m) : base(n, Math.Max(n, m))
        {
            _n = n;
            _m = m;
            Signed = new double[n]; SignedBar = new double[n]; Squashed = new double[n]; SquashedBar = new double[n];
            Standardized = new double[n]; ZBar = new double[n]; Zeros = new double[m];
            Alpha = new double[n]; Beta = new double[m]; U = new double[n]; V = new double[m]; UNew = new double[n]; VNew = new double[m];
            FBar = new double[n]; GBar = new double[m]; Bv = new double[m]; Previous = new double[m]; SortedBar = new double[m];
            Cost = new double[n * m]; CostT = new double[n * m]; Kernel = new double[n * m]; Plan = new double[n * m]; PlanBar = new double[n * m];
            Sorted = new double[m]; Buffer = new double[Math.Max(n, m)];
        }

        public readonly double[] Signed, SignedBar, Squashed, SquashedBar, Standardized, ZBar, Zeros;
        public readonly double[] Alpha, Beta, U, V, UNew, VNew, FBar, GBar, Bv, Previous, SortedBar;
        public readonly double[] Cost, CostT, Kernel, Plan, PlanBar, Sorted, Buffer;
        public double[] HistoryF = [], HistoryG = [];
        public double Mean, Std;
        public int Iterations, LogIterations, Absorptions;
        public bool CostTransposed;
        public double MarginalError;

        public void EnsureHistory(int iterations)
        {
            if (HistoryF.Length < iterations * _n)
            {
                int capacity = Math.Max(iterations, 2 * HistoryF.Length / _n);
                Array.Resize(ref HistoryF, capacity * _n);
                Array.Resize(ref HistoryG, capacity * _m);
            }
        }
    }
}

/// <summary>How Sinkhorn rows converged (see <see cref="SinkhornSorting.Convergence"/>).</summary>
/// <param name="Rows">Rows computed.</param>
/// <param name="CappedRows">Rows stopped by the iteration cap with the row-marginal error still above the tolerance.</param>
/// <param name="MostIterations">The most iterations a row used.</param>
/// <param name="WorstMarginalError">The largest final row-marginal error Σᵢ |(P1)ᵢ − aᵢ|/… of any row.</param>
public readonly record struct SinkhornConvergence(long Rows, long CappedRows, int MostIterations, double WorstMarginalError);
