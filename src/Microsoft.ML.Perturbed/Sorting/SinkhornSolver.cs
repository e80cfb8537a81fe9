namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Solves a row's entropic transport P_ε = argmin_{P∈U(a,b)} ⟨P, C⟩ − εH(P) by Sinkhorn iterations, from the cost in a
/// <see cref="SinkhornWorkspace"/> to the plan P = a·bⱼ·uᵢK̃ᵢⱼvⱼ, and differentiates the iterations it ran (the
/// unrolled reverse mode, <see cref="SinkhornReverseMode"/>). The potentials are f = α + ε log u, g = β + ε log v with
/// the absorbed potentials (α, β) in the kernel K̃ᵢⱼ = exp((αᵢ + βⱼ − Cᵢⱼ)/ε). The strategies differ only in how an
/// iteration is taken: <see cref="ScalingSinkhornSolver"/> (the operator's) in the scalings, <see cref="LogDomainSinkhornSolver"/>
/// (the benchmark's baseline and the agreement tests') in the log domain. Immutable and shared by every thread: a row's
/// state lives in its workspace.
/// </summary>
internal abstract class SinkhornSolver(SinkhornProblem problem)
{
    /// <summary>The problem solved.</summary>
    protected SinkhornProblem Problem { get; } = problem;

    /// <summary>
    /// Whether the reverse mode may read an iterate's softmaxes through the final kernel K̃ (where the ratios to the
    /// absorbed potentials lie in the scaling window) instead of exponentiating every entry from the potentials.
    /// </summary>
    protected abstract bool ReadsThroughKernel { get; }

    /// <summary>
    /// Runs the iterations until the row-marginal error before an update is below the tolerance (after at least two) or
    /// the cap is reached, and writes the plan into <c>w.Plan</c>, the iteration count, the error and whether the row is
    /// capped into the workspace; with <paramref name="keepHistory"/>, every iterate's potentials for <see cref="Backward"/>.
    /// </summary>
    public void Solve(SinkhornWorkspace w, bool keepHistory)
    {
        SinkhornProblem p = Problem;
        int n = p.N, m = p.M;
        Array.Clear(w.Alpha);
        Array.Clear(w.Beta);
        w.LogIterations = w.Absorptions = 0;
        w.CostTransposed = false;
        Start(w);
        int t = 0;
        double error;
        while (true)
        {
            if (keepHistory) w.EnsureHistory(t + 1);
            error = Iterate(w);
            if (keepHistory) Potentials(w, w.HistoryF.AsSpan(t * n, n), w.HistoryG.AsSpan(t * m, m));
            t++;
            if (t >= p.MaxIterations || (t > 1 && error < p.Tolerance)) break;
        }
        w.MarginalError = error;
        w.Iterations = t;
        w.Capped = p.IsCapped(t, error);
        Finish(w);
        Span<double> bv = w.Bv;
        SpanMath.ScaledProduct(p.Weights, w.V, 1.0 / n, bv);
        for (int i = 0; i < n; i++)
        {
            SpanMath.ScaledProduct(w.Kernel.AsSpan(i * m, m), bv, w.U[i], w.Plan.AsSpan(i * m, m));
        }
    }

    /// <summary>
    /// Reverse mode through the plan and every iteration that <see cref="Solve"/> ran with its history kept:
    /// <c>w.PlanBar</c> (P̄) → C̄, in place.
    /// </summary>
    public void Backward(SinkhornWorkspace w) => SinkhornReverseMode.Backward(Problem, w, ReadsThroughKernel);

    /// <summary>Prepares the first iteration (the potentials are 0); nothing by default.</summary>
    protected virtual void Start(SinkhornWorkspace w)
    {
    }

    /// <summary>One iteration; returns the row-marginal error Σᵢ |(P1)ᵢ/aᵢ − 1|/n before the update.</summary>
    protected abstract double Iterate(SinkhornWorkspace w);

    /// <summary>The potentials (f, g) of the current iterate, for the history.</summary>
    protected abstract void Potentials(SinkhornWorkspace w, Span<double> f, Span<double> g);

    /// <summary>Leaves the final iterate as a kernel K̃ and scalings (u, v) for the plan; nothing by default (they are).</summary>
    protected virtual void Finish(SinkhornWorkspace w)
    {
    }

    /// <summary>K̃ᵢⱼ = exp((αᵢ + βⱼ − Cᵢⱼ)/ε) and u = v = 1: the potentials (α, β) absorbed into the kernel.</summary>
    protected void Absorb(SinkhornWorkspace w)
    {
        int n = Problem.N, m = Problem.M;
        double inverseEps = 1 / Problem.Epsilon;
        for (int i = 0; i < n; i++)
        {
            GibbsKernel.Row(w.Beta, w.Cost.AsSpan(i * m, m), inverseEps, default, w.Alpha[i] * inverseEps, w.Kernel.AsSpan(i * m, m));
        }
        w.Absorptions++;
        Array.Fill(w.U, 1.0);
        Array.Fill(w.V, 1.0);
    }
}
