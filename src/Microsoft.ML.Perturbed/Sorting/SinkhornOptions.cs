namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>Settings of <see cref="SinkhornSorting"/>; checked when the operator is created.</summary>
public sealed class SinkhornOptions
{
    /// <summary>What to compute; default soft ranks.</summary>
    public SinkhornOutput Output { get; set; } = SinkhornOutput.Rank;

    /// <summary>Entropic regularization ε &gt; 0 of the transport, on the scale of squared distances in [0, 1]. Default 0.01.</summary>
    public double Epsilon { get; set; } = 0.01;

    /// <summary>Number m of targets (a regular grid on [0, 1]); 0 (default) uses m = n. Ignored for <see cref="SinkhornOutput.Quantile"/> (m = 3).</summary>
    public int Targets { get; set; }

    /// <summary>Target weights b (length m, positive, summing to 1); null (default) for uniform weights.</summary>
    public double[]? TargetWeights { get; set; }

    /// <summary>Target values f (ascending, length m) for <see cref="SinkhornOutput.QuantileNormalize"/>.</summary>
    public double[]? TargetValues { get; set; }

    /// <summary>Quantile level τ for <see cref="SinkhornOutput.Quantile"/>; default 0.5 (the median).</summary>
    public double Level { get; set; } = 0.5;

    /// <summary>Weight t of the middle target for <see cref="SinkhornOutput.Quantile"/>; default 0.05. Needs t/2 &lt; τ &lt; 1 − t/2.</summary>
    public double QuantileWidth { get; set; } = 0.05;

    /// <summary>Input squashing; default logistic.</summary>
    public Squashing Squashing { get; set; } = Squashing.Logistic;

    /// <summary>Ascending (default) or descending.</summary>
    public SortDirection Direction { get; set; } = SortDirection.Ascending;

    /// <summary>Stop when Σᵢ |(P1)ᵢ − aᵢ| falls below this (the columns are exact after each iteration). Default 1e-4.</summary>
    public double Tolerance { get; set; } = 1e-4;

    /// <summary>
    /// Most Sinkhorn iterations; default 1000. A row that reaches it above the tolerance (always, with tolerance 0) is
    /// counted in the call's <see cref="SinkhornConvergence"/> (<see cref="SinkhornSorting.ForwardWithReport(ReadOnlySpan{float}, Span{float})"/>)
    /// and read out with its own row masses, so its outputs stay in range (see <see cref="SinkhornOutput"/>).
    /// </summary>
    public int MaxIterations { get; set; } = 1000;

    /// <summary>
    /// How VJPs are computed: false (default) unrolls the iterations in reverse mode, the exact derivative of the output
    /// computed; true differentiates the converged plan by the implicit function theorem (Cuturi, Teboul &amp; Vert 2019):
    /// one m × m Schur system per row (m the number of targets, first potential pinned), O(n·m² + m³) per row whatever
    /// the number of iterations, and no iterate kept. The implicit VJP is the derivative of the operator at exact
    /// marginals (the converged derivative), so it differs from the unrolled VJP, the derivative of the output computed,
    /// by about the <see cref="Tolerance"/> (below 1e-9 at a tolerance of 1e-13, in double precision); at a given
    /// tolerance it is the closer of the two to the converged derivative (measured: about 1.5 × the tolerance, against
    /// 15 × for the unrolled VJP, at n = 100, m = 20, ε = 0.01). It pays once rows need more than about m/4 iterations
    /// (measured at n = 100: from about 25 iterations at m = 100, under 15 at m ≤ 20), so at small ε. A row stopped at
    /// <see cref="MaxIterations"/> above the tolerance, or whose Schur system has no solution in double precision, is
    /// differentiated by unrolling instead (its forward pass run again, keeping the iterates, so
    /// <see cref="SinkhornSorting.MaxHistory"/> still bounds MaxIterations × (n + m)), and counted in
    /// <see cref="SinkhornConvergence.ImplicitFallbackRows"/>. Every output reads the same P̄ → C̄ step, so every output
    /// has it; forward passes are unchanged. Needs m ≤ 2048 (the Schur system holds m² doubles per thread).
    /// </summary>
    public bool ImplicitDifferentiation { get; set; }

    /// <summary>Most threads a call may use; −1 (default) uses every core.</summary>
    public int MaxDegreeOfParallelism { get; set; } = -1;
}
