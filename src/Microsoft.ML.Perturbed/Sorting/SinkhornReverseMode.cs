using System.Numerics;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// The unrolled reverse mode of the Sinkhorn iterations: P̄ → C̄ through the plan and every iterate that a
/// <see cref="SinkhornSolver"/> kept. The softmax matrices of iteration t are read through the final kernel,
/// Qᵢⱼ = a·ũᵢK̃ᵢⱼṽⱼ with ũᵢ = exp((fᵢᵗ − αᵢ)/ε), whenever those ratios lie in the scaling window; otherwise (early
/// iterations at small ε, or a solver whose kernel is not read that way) each entry is exponentiated from the
/// potentials.
/// </summary>
internal static class SinkhornReverseMode
{
    /// <summary>
    /// <c>w.PlanBar</c> holds P̄ on entry and C̄ on exit. <paramref name="throughKernel"/>: whether the softmaxes may be
    /// read through the final kernel where the ratios allow it.
    /// </summary>
    public static void Backward(SinkhornProblem p, SinkhornWorkspace w, bool throughKernel)
    {
        int n = p.N, m = p.M, iterations = w.Iterations;
        double eps = p.Epsilon, inverseEps = 1 / eps, logA = -Math.Log(n), a = 1.0 / n;
        double[] fBar = w.FBar, gBar = w.GBar, cBar = w.PlanBar, plan = w.Plan, cost = w.Cost, kernel = w.Kernel;
        Array.Clear(fBar);
        Array.Clear(gBar);
        // P = exp(log a + log b + (f + g − C)/ε): W = P̄ ⊙ P/ε flows to f, g and −C. C̄ overwrites P̄ in place.
        for (int i = 0; i < n; i++)
        {
            Span<double> row = cBar.AsSpan(i * m, m);
            SpanMath.ScaledProduct(row, plan.AsSpan(i * m, m), -inverseEps, row);   // −W
            fBar[i] = -SpanMath.Sum(row);
            SpanMath.AddScaled(gBar, row, -1);
        }
        Span<double> q = w.Buffer.AsSpan(0, m), ut = w.UNew, vt = w.VNew, vPrev = w.V, scaled = w.Bv, previous = w.Previous;
        bool carried = false;
        for (int t = iterations - 1; t >= 0; t--)
        {
            ReadOnlySpan<double> ft = w.HistoryF.AsSpan(t * n, n), gt = w.HistoryG.AsSpan(t * m, m);
            ReadOnlySpan<double> gPrev = t > 0 ? w.HistoryG.AsSpan((t - 1) * m, m) : w.Zeros;
            bool rowRatios = throughKernel && Ratios(ft, w.Alpha, inverseEps, ut);
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
                SpanMath.ScaledProduct(vt, gBar, a, scaled);             // a·ṽⱼḡⱼ
                SpanMath.ScaledProduct(p.Weights, vPrev, 1, previous);   // bⱼṽⱼ_prev
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
                    GibbsKernel.Row(gt, cost.AsSpan(i * m, m), inverseEps, default, logA + ft[i] * inverseEps, q);
                    fBar[i] -= SpanMath.Dot(gBar, q);
                    SpanMath.AddScaledProduct(cBarRow, gBar, q, 1);
                }
                Array.Clear(gBar);
                for (int i = 0; i < n; i++)
                {
                    if (fBar[i] == 0) continue;
                    Span<double> cBarRow = cBar.AsSpan(i * m, m);
                    GibbsKernel.Row(gPrev, cost.AsSpan(i * m, m), inverseEps, p.LogWeights, ft[i] * inverseEps, q);
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
            if (!(Math.Abs(e) <= ScalingSinkhornSolver.LogScalingBound)) return false;
            destination[i] = e;
        }
        SpanMath.Exp(destination[..potential.Length], destination[..potential.Length]);
        return true;
    }
}
