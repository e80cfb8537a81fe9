using System.Numerics.Tensors;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// The implicit reverse mode of Sinkhorn (Cuturi, Teboul &amp; Vert 2019; <see cref="SinkhornOptions.ImplicitDifferentiation"/>):
/// P̄ → C̄ by the implicit function theorem at the computed plan, with no iterate kept and a cost independent of the
/// iteration count. The plan P = exp((f ⊕ g − C)/ε)·(a ⊗ b) is fixed by its marginals P1 = r, Pᵀ1 = c (r, c the plan's
/// own row and column masses, a and b to the tolerance). Differentiating them, dP = P ⊙ (df ⊕ dg − dC)/ε with
/// [diag r, P; Pᵀ, diag c]·[df; dg] = [(P ⊙ dC)1; (P ⊙ dC)ᵀ1]; the adjoint of that symmetric system gives
/// C̄ᵢⱼ = Pᵢⱼ(λᵢ + μⱼ − P̄ᵢⱼ)/ε, where eliminating λ = s − diag(r)⁻¹Pμ, sᵢ = Σⱼ PᵢⱼP̄ᵢⱼ/rᵢ, leaves the m × m Schur
/// complement S = diag c − Pᵀ diag(r)⁻¹ P (diag(c)·(I − M₂ᵀM₁) with M₁ = diag(r)⁻¹P, M₂ = P diag(c)⁻¹):
/// S μ = ρ, ρⱼ = Σᵢ Pᵢⱼ(P̄ᵢⱼ − sᵢ).
/// </summary>
/// <remarks>
/// S is the Laplacian of the targets' graph with weights wⱼₖ = Σᵢ PᵢⱼPᵢₖ/rᵢ (its rows sum to zero because c = Pᵀ1 and
/// r = P1 are the plan's own masses), singular along μ = 1: the potentials are defined up to a constant, which cancels in
/// λᵢ + μⱼ. The first potential is pinned (μ₀ = 0) and the rest is eliminated from the last target down, each pivot the
/// sum of the remaining weights of its target (Grassmann–Taksar–Heyman): no subtraction, so the factorization keeps its
/// relative accuracy even where ε is small and the weights span many orders of magnitude. A pivot of zero (a target cut
/// off from the lower ones) pins its own potential when its right-hand side vanishes; otherwise the system has no
/// solution in double precision and <see cref="Backward"/> returns false, leaving P̄ untouched, so that the operator can
/// unroll that row instead. Cost per row: n·m²/2 multiply-adds to form the weights, m³/6 to eliminate, O(nm) for the
/// rest; buffers are the workspace's (<see cref="SinkhornWorkspace.EnsureImplicit"/>), allocated once per workspace.
/// </remarks>
internal static class SinkhornImplicitGradient
{
    /// <summary>A pivot at or below this (the weights are at most 1) is taken as zero: its target is cut off.</summary>
    private const double ZeroPivot = 1e-290;

    /// <summary>
    /// <c>w.PlanBar</c> holds P̄ on entry and C̄ on exit; the plan is <c>w.Plan</c>. Returns false, with P̄ unchanged,
    /// when the Schur system has no solution in double precision (a cut-off target with a right-hand side).
    /// </summary>
    public static bool Backward(SinkhornProblem p, SinkhornWorkspace w)
    {
        int n = p.N, m = p.M;
        w.EnsureImplicit();
        double[] plan = w.Plan, pBar = w.PlanBar, weights = w.Schur, rho = w.SchurRhs, mu = w.SchurSolution, pivots = w.SchurPivots;
        double[] rowMass = w.ImplicitRowMass, shift = w.ImplicitShift, q = w.Buffer;
        Array.Clear(rho);
        Array.Clear(weights, 0, m * m);
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> row = plan.AsSpan(i * m, m), rowBar = pBar.AsSpan(i * m, m);
            double r = SpanMath.Sum(row);
            rowMass[i] = r;
            if (!(r > 0))
            {
                return false;   // an empty row (every entry underflowed): nothing to differentiate through
            }
            double s = SpanMath.Dot(row, rowBar) / r;
            shift[i] = s;
            SpanMath.AddScaledProduct(rho, row, rowBar, 1);   // ρ += Pᵢ ⊙ P̄ᵢ − sᵢPᵢ
            SpanMath.AddScaled(rho, row, -s);
            // Lower triangle of the weights: w[j, 0..j) += Pᵢⱼ·Pᵢ[0..j)/rᵢ.
            Span<double> scaled = q.AsSpan(0, m);
            TensorPrimitives.Multiply(row, 1 / r, scaled);
            for (int j = 1; j < m; j++)
            {
                if (row[j] != 0) SpanMath.AddScaled(weights.AsSpan(j * m, j), scaled[..j], row[j]);
            }
        }
        if (!Solve(weights, rho, mu, pivots, m))
        {
            return false;
        }
        double inverseEps = 1 / p.Epsilon;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> row = plan.AsSpan(i * m, m);
            Span<double> cBar = pBar.AsSpan(i * m, m);
            double lambda = shift[i] - SpanMath.Dot(row, mu) / rowMass[i];
            // C̄ᵢⱼ = Pᵢⱼ(λᵢ + μⱼ − P̄ᵢⱼ)/ε, in place of P̄.
            TensorPrimitives.Subtract(mu.AsSpan(0, m), cBar, cBar);
            TensorPrimitives.Add(cBar, lambda, cBar);
            SpanMath.ScaledProduct(cBar, row, inverseEps, cBar);
        }
        return true;
    }

    /// <summary>
    /// Solves the Laplacian system L μ = ρ given by the lower triangle of its weights (row-major m × m, overwritten),
    /// with μ₀ = 0, by elimination from target m − 1 down to 1; false when a cut-off target has a right-hand side.
    /// </summary>
    private static bool Solve(double[] weights, double[] rho, double[] mu, double[] pivots, int m)
    {
        double scale = 0;
        for (int j = 0; j < m; j++) scale = Math.Max(scale, Math.Abs(rho[j]));
        for (int k = m - 1; k >= 1; k--)
        {
            ReadOnlySpan<double> rowK = weights.AsSpan(k * m, k);
            double d = SpanMath.Sum(rowK);   // the degree of k among targets 0..k, eliminated ones folded in
            pivots[k] = d;
            if (!(d > ZeroPivot))
            {
                // Cut off from 0..k − 1: its component's potentials are free. Pin it if nothing has to flow out.
                if (!(Math.Abs(rho[k]) <= 1e-13 * scale)) return false;
                pivots[k] = 0;
                continue;
            }
            double inverse = 1 / d, rk = rho[k] * inverse;
            for (int l = 1; l < k; l++)
            {
                double wlk = rowK[l];
                if (wlk == 0) continue;
                // w[l, 0..l) += w[l,k]·w[k, 0..l)/d; ρₗ += w[l,k]·ρₖ/d.
                SpanMath.AddScaled(weights.AsSpan(l * m, l), rowK[..l], wlk * inverse);
                rho[l] += wlk * rk;
            }
            if (rowK.Length > 0) rho[0] += rowK[0] * rk;
        }
        mu[0] = 0;
        for (int k = 1; k < m; k++)
        {
            mu[k] = pivots[k] == 0 ? 0 : (rho[k] + SpanMath.Dot(weights.AsSpan(k * m, k), mu.AsSpan(0, k))) / pivots[k];
            if (!double.IsFinite(mu[k])) return false;
        }
        return true;
    }
}
