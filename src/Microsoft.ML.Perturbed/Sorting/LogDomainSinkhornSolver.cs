namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Sinkhorn iterations in the log domain only — the previous algorithm, one exponential per plan entry and
/// half-iteration. Kept for the benchmark's same-run baseline and the tests that check it agrees with
/// <see cref="ScalingSinkhornSolver"/>; they build an operator on it with
/// <c>new SinkhornSorting(n, options, p =&gt; new LogDomainSinkhornSolver(p))</c>. The plan is read from the final
/// potentials' kernel with u = v = 1, and the reverse mode exponentiates every softmax from the potentials.
/// </summary>
internal sealed class LogDomainSinkhornSolver(SinkhornProblem problem) : SinkhornSolver(problem)
{
    protected override bool ReadsThroughKernel => false;

    protected override double Iterate(SinkhornWorkspace w)
    {
        w.LogIterations++;
        return LogDomainIteration.Step(Problem, w);
    }

    protected override void Potentials(SinkhornWorkspace w, Span<double> f, Span<double> g)
    {
        w.Alpha.CopyTo(f);
        w.Beta.CopyTo(g);
    }

    /// <summary>The final iterate's kernel: P = a·b·K̃ with u = v = 1.</summary>
    protected override void Finish(SinkhornWorkspace w) => Absorb(w);
}
