namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// The buffers of one <see cref="SinkhornSorting"/> row, pooled per operator (one per running chunk of rows): the
/// squashed inputs and the cost, the potentials, scalings and kernel of the transport, the plan, the adjoints of the
/// backward pass and the unrolled iterates. Everything here is overwritten by the next row; what a row reports about
/// its convergence is copied out by the operator before that.
/// </summary>
internal sealed class SinkhornWorkspace : RowWorkspace
{
    private readonly int _n, _m;

    public SinkhornWorkspace(int n, int m) : base(n, Math.Max(n, m))
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

    /// <summary>The inputs times the direction's sign (x), the squashed inputs x̃, the standardized ones z, and their adjoints.</summary>
    public readonly double[] Signed, SignedBar, Squashed, SquashedBar, Standardized, ZBar, Zeros;

    /// <summary>Absorbed potentials (α, β), scalings (u, v), their updates, and the adjoints and scratch of the reverse mode.</summary>
    public readonly double[] Alpha, Beta, U, V, UNew, VNew, FBar, GBar, Bv, Previous, SortedBar;

    /// <summary>C, Cᵀ, K̃, P and P̄ (n × m, row-major; Cᵀ m × n), Σᵢ Pᵢⱼxᵢ/cⱼ, and a scratch row.</summary>
    public readonly double[] Cost, CostT, Kernel, Plan, PlanBar, Sorted, Buffer;

    /// <summary>The potentials (f, g) after each iteration, kept for the unrolled gradient.</summary>
    public double[] HistoryF = [], HistoryG = [];

    /// <summary>The mean and standard deviation the squashing standardized with.</summary>
    public double Mean, Std;

    /// <summary>Iterations of the row, how many of them ran in the log domain, and how often the kernel was computed.</summary>
    public int Iterations, LogIterations, Absorptions;

    /// <summary>Whether <see cref="CostT"/> holds this row's transposed cost.</summary>
    public bool CostTransposed;

    /// <summary>Whether the kernel was just computed (u = v = 1), so absorbing again cannot bring an iteration into the window.</summary>
    public bool KernelFresh;

    /// <summary>The row-marginal error before the last update.</summary>
    public double MarginalError;

    /// <summary>Whether the row stopped at the iteration cap with its row marginals still off by more than the tolerance.</summary>
    public bool Capped;

    /// <summary>The masses a read-out divides by: a capped row's Σⱼ Pᵢⱼ (ranks, CDF, normalization) and the columns' Σᵢ Pᵢⱼ, else bⱼ (sorts).</summary>
    public readonly double[] RowMass, ColumnMass;

    /// <summary>Whether the row's VJP was unrolled although the operator differentiates implicitly (capped, or a singular Schur system).</summary>
    public bool ImplicitFallback;

    /// <summary>
    /// The implicit reverse mode's buffers (<see cref="SinkhornImplicitGradient"/>): the m × m weights of the Schur
    /// complement, its right-hand side, solution and pivots, and the row masses and shifts; empty until
    /// <see cref="EnsureImplicit"/>.
    /// </summary>
    public double[] Schur = [], SchurRhs = [], SchurSolution = [], SchurPivots = [], ImplicitRowMass = [], ImplicitShift = [];

    /// <summary>What the row reports about its convergence.</summary>
    public SinkhornRowTrace Trace => new(Iterations, MarginalError, Capped, LogIterations, Absorptions, ImplicitFallback);

    /// <summary>Allocates the implicit reverse mode's buffers on first use (once per pooled workspace).</summary>
    public void EnsureImplicit()
    {
        if (Schur.Length == 0)
        {
            Schur = new double[_m * _m];
            SchurRhs = new double[_m]; SchurSolution = new double[_m]; SchurPivots = new double[_m];
            ImplicitRowMass = new double[_n]; ImplicitShift = new double[_n];
        }
    }

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
