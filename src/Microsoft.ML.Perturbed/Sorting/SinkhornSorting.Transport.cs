using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Perturbed.Sorting;

// The transport of SinkhornSorting: the iterations in the scalings and in the log domain, their unrolled reverse mode,
// and the per-thread workspace (the read-outs and the options are in SinkhornSorting.cs).
public sealed partial class SinkhornSorting
{
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
        w.Capped = t >= _maxIterations && !(w.MarginalError < _tolerance);
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
            Sorted = new double[m]; Buffer = new double[Math.Max(n, m)]; RowMass = new double[n]; ColumnMass = new double[m];
        }

        public readonly double[] Signed, SignedBar, Squashed, SquashedBar, Standardized, ZBar, Zeros;
        public readonly double[] Alpha, Beta, U, V, UNew, VNew, FBar, GBar, Bv, Previous, SortedBar;
        public readonly double[] Cost, CostT, Kernel, Plan, PlanBar, Sorted, Buffer;
        public double[] HistoryF = [], HistoryG = [];
        public double Mean, Std;
        public int Iterations, LogIterations, Absorptions;
        public bool CostTransposed;
        public double MarginalError;

        /// <summary>Whether the row stopped at the iteration cap with its row marginals still off by more than the tolerance.</summary>
        public bool Capped;

        /// <summary>The masses a read-out divides by: a capped row's Σⱼ Pᵢⱼ (ranks, CDF, normalization) and the columns' Σᵢ Pᵢⱼ, else bⱼ (sorts).</summary>
        public readonly double[] RowMass, ColumnMass;

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
