using System.Numerics.Tensors;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Soft ranks, CDF, sort, quantiles and quantile normalization by entropic optimal transport (Cuturi, Teboul, Vert
/// 2019, "Differentiable Ranking and Sorting using Optimal Transport"). A row x of n values, squashed into [0, 1],
/// is transported onto m targets y on a regular grid of [0, 1] with weights a = 1/n and b; the plan
/// P_ε = argmin_{P∈U(a,b)} ⟨P, C⟩ − εH(P), C_ij = (yⱼ − x̃ᵢ)², is found by log-domain Sinkhorn iterations, and the
/// requested output (<see cref="SinkhornOutput"/>) is read off P.
/// </summary>
/// <remarks>
/// <para><b>Gradients</b> (VJP only) are computed by unrolling the Sinkhorn iterations in reverse mode: they are the exact
/// derivative of the output actually computed (checked against finite differences), at about the cost of the forward
/// pass and with the potentials of every iteration kept per thread (iterations × (n + m) doubles). Implicit
/// differentiation would need a linear solve of size n + m per row and is only exact at convergence; unrolling is the
/// simpler and more faithful choice at the sizes this operator is used for (it is O(n·m) per iteration anyway).</para>
/// <para>Iterations stop when the row-marginal error Σᵢ |(P1)ᵢ − aᵢ| falls below <see cref="SinkhornOptions.Tolerance"/>
/// (the column marginals are exact after every iteration) or after <see cref="SinkhornOptions.MaxIterations"/>.</para>
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
    /// The largest n × m plan accepted (2²²): a row's workspace holds four n × m arrays of doubles (128 MiB per thread
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
                $"A Sinkhorn plan of {dimension} values × {targetCount} targets ({(long)dimension * targetCount:N0} entries, {(long)dimension * targetCount * 32 / (1 << 20):N0} MiB per thread) exceeds the limit of {MaxPlanSize:N0} entries; use fewer targets ('{nameof(options.Targets)}') or the permutahedron operators, which are O(n log n).");
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
            (_rows, _cappedRows, _mostIterations, _worstError) = (0, 0, 0, 0);
        }
    }

    private void Record(int iterations, double error)
    {
        lock (_targets)
        {
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
        Transport(w);
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
        Transport(w);
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
                    double s = 0;
                    for (int j = 0; j < m; j++) s += p[i * m + j] * readout[j];
                    w.Output[i] = rowScale * s;
                }
                break;
            case SinkhornOutput.Sort:
            case SinkhornOutput.Quantile:
                for (int j = 0; j < m; j++)
                {
                    double s = 0;
                    for (int i = 0; i < n; i++) s += p[i * m + j] * x[i];
                    w.Sorted[j] = s / _weights[j];
                }
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
                    for (int j = 0; j < m; j++)
                        pBar[i * m + j] = rowScale * g[i] * readout[j];
                break;
            case SinkhornOutput.Sort:
            case SinkhornOutput.Quantile:
                Array.Clear(pBar);
                for (int j = 0; j < m; j++)
                {
                    double gj = output == SinkhornOutput.Sort ? g[j] : j == 1 ? g[0] : 0;
                    if (gj == 0) continue;
                    double c = _sign * gj / _weights[j];
                    for (int i = 0; i < n; i++)
                    {
                        pBar[i * m + j] = c * x[i];
                        xBar[i] += c * p[i * m + j];
                    }
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
            for (int j = 0; j < m; j++)
            {
                double d = _targets[j] - xt[i];
                w.Cost[i * m + j] = w.CostT[j * n + i] = d * d;
                // The iterations' exponents without the potentials, once per row instead of once per iteration.
                w.RowExponent[i * m + j] = _logWeights[j] - d * d / Epsilon;
                w.ColumnExponent[j * n + i] = -d * d / Epsilon;
            }
        }
    }

    private const double StdFloor = 1e-12;

    /// <summary>Log-domain Sinkhorn: f and g alternate soft-min updates; P = exp(log a + log b + (f + g − C)/ε).</summary>
    private void Transport(Workspace w)
    {
        int n = Dimension, m = _targets.Length;
        double eps = Epsilon, inverseEps = 1 / eps, logA = -Math.Log(n);
        double[] f = w.F, gPot = w.G;
        Span<double> rowBuffer = w.Buffer.AsSpan(0, m), columnBuffer = w.Buffer.AsSpan(0, n);
        Array.Clear(f);
        Array.Clear(gPot);
        int t = 0;
        double lastError = double.PositiveInfinity;
        while (true)
        {
            w.EnsureHistory(t + 1);
            double error = 0;
            for (int i = 0; i < n; i++)
            {
                // fᵢ = −ε LSEⱼ(log bⱼ + (gⱼ − Cᵢⱼ)/ε); the row sum before the update is aᵢ·exp((fᵢ − fᵢ_new)/ε).
                Scaled(gPot, inverseEps, w.RowExponent.AsSpan(i * m, m), rowBuffer);
                double fNew = -eps * LogSumExp(rowBuffer);
                error += Math.Abs(Math.Exp((f[i] - fNew) / eps) - 1) / n;
                f[i] = fNew;
            }
            f.CopyTo(w.HistoryF, t * n);
            for (int j = 0; j < m; j++)
            {
                // gⱼ = −ε LSEᵢ(log aᵢ + (fᵢ − Cᵢⱼ)/ε), over the transposed cost's row j.
                Scaled(f, inverseEps, w.ColumnExponent.AsSpan(j * n, n), columnBuffer);
                gPot[j] = -eps * (logA + LogSumExp(columnBuffer));
            }
            gPot.CopyTo(w.HistoryG, t * m);
            t++;
            lastError = error;
            if (t >= _maxIterations || (t > 1 && error < _tolerance))
            {
                break;
            }
        }
        w.Iterations = t;
        w.MarginalError = lastError;
        Record(t, lastError);
        for (int i = 0; i < n; i++)
        {
            Kernel(gPot, w.Cost.AsSpan(i * m, m), inverseEps, _logWeights, logA + f[i] * inverseEps, w.Plan.AsSpan(i * m, m));
        }
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

    /// <summary>
    /// destination = potential/ε + exponent, with exponent = log b − C/ε precomputed per row: one fused pass per row and
    /// iteration where <see cref="Exponent"/> takes two (the profile of the iterations: six passes over each row, now five).
    /// </summary>
    private static void Scaled(ReadOnlySpan<double> potential, double inverseEps, ReadOnlySpan<double> exponent, Span<double> destination)
    {
        if (destination.Length < VectorMinimum)
        {
            for (int j = 0; j < destination.Length; j++) destination[j] = potential[j] * inverseEps + exponent[j];
            return;
        }
        TensorPrimitives.MultiplyAdd(potential, inverseEps, exponent, destination);
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
        TensorPrimitives.Exp(destination, destination);
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
        TensorPrimitives.Exp(values, values);
        return max + Math.Log(TensorPrimitives.Sum(values));
    }

    /// <summary>Reverse mode through the plan and every Sinkhorn iteration: P̄ → C̄ → x̃̄ (into <c>w.SquashedBar</c>).</summary>
    private void TransportBackward(Workspace w)
    {
        int n = Dimension, m = _targets.Length, iterations = w.Iterations;
        double eps = Epsilon, inverseEps = 1 / eps, logA = -Math.Log(n);
        double[] fBar = w.F, gBar = w.G, cBar = w.PlanBar, p = w.Plan, cost = w.Cost;
        Array.Clear(fBar);
        Array.Clear(gBar);
        // P = exp(log a + log b + (f + g − C)/ε): W = P̄ ⊙ P/ε flows to f, g and −C. C̄ overwrites P̄ in place.
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                double wij = cBar[i * m + j] * p[i * m + j] / eps;
                fBar[i] += wij;
                gBar[j] += wij;
                cBar[i * m + j] = -wij;
            }
        }
        Span<double> q = w.Buffer.AsSpan(0, m);
        for (int t = iterations - 1; t >= 0; t--)
        {
            ReadOnlySpan<double> ft = w.HistoryF.AsSpan(t * n, n), gt = w.HistoryG.AsSpan(t * m, m);
            // gⱼ = −ε LSEᵢ(log a + (fᵢ − Cᵢⱼ)/ε): ∂gⱼ/∂fᵢ = −Qᵢⱼ, ∂gⱼ/∂Cᵢⱼ = Qᵢⱼ, Q the column softmax
            // Qᵢⱼ = exp(log a + (fᵢ − Cᵢⱼ + gⱼ)/ε) (≤ 1: the columns sum to 1).
            for (int i = 0; i < n; i++)
            {
                Span<double> cBarRow = cBar.AsSpan(i * m, m);
                Kernel(gt, cost.AsSpan(i * m, m), inverseEps, default, logA + ft[i] * inverseEps, q);
                fBar[i] -= TensorPrimitives.Dot(gBar, q);
                TensorPrimitives.MultiplyAdd(gBar, q, cBarRow, cBarRow);
            }
            Array.Clear(gBar);
            // fᵢ = −ε LSEⱼ(log bⱼ + (gⱼ_prev − Cᵢⱼ)/ε): ∂fᵢ/∂gⱼ_prev = −Q′ᵢⱼ, ∂fᵢ/∂Cᵢⱼ = Q′ᵢⱼ, Q′ the row softmax
            // Q′ᵢⱼ = exp(log bⱼ + (gⱼ_prev − Cᵢⱼ + fᵢ)/ε).
            ReadOnlySpan<double> gPrev = t > 0 ? w.HistoryG.AsSpan((t - 1) * m, m) : w.Zeros;
            for (int i = 0; i < n; i++)
            {
                if (fBar[i] == 0) continue;
                Span<double> cBarRow = cBar.AsSpan(i * m, m);
                Kernel(gPrev, cost.AsSpan(i * m, m), inverseEps, _logWeights, ft[i] * inverseEps, q);
                TensorPrimitives.MultiplyAdd(q, -fBar[i], gBar, gBar);
                TensorPrimitives.MultiplyAdd(q, fBar[i], cBarRow, cBarRow);
            }
            Array.Clear(fBar);
        }
        // Cᵢⱼ = (yⱼ − x̃ᵢ)².
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < m; j++) s += cBar[i * m + j] * -2 * (_targets[j] - w.Squashed[i]);
            w.SquashedBar[i] = s;
        }
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
            Standardized = new double[n]; ZBar = new double[n]; F = new double[n]; G = new double[m]; Zeros = new double[m];
            Cost = new double[n * m]; CostT = new double[n * m]; Plan = new double[n * m]; PlanBar = new double[n * m];
            RowExponent = new double[n * m]; ColumnExponent = new double[n * m];
            Sorted = new double[m]; Buffer = new double[Math.Max(n, m)];
        }

        public readonly double[] Signed, SignedBar, Squashed, SquashedBar, Standardized, ZBar, F, G, Zeros;
        public readonly double[] Cost, CostT, Plan, PlanBar, Sorted, Buffer, RowExponent, ColumnExponent;
        public double[] HistoryF = [], HistoryG = [];
        public double Mean, Std;
        public int Iterations;
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
