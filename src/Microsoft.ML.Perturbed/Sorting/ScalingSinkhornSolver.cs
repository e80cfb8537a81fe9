using System.Numerics.Tensors;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Sinkhorn iterations in the scalings, the operator's solver. With K̃ computed once, an iteration is two matrix–vector
/// products, uᵢ = 1/Σⱼ bⱼK̃ᵢⱼvⱼ and vⱼ = 1/Σᵢ aK̃ᵢⱼuᵢ, with no exponential (the log-domain update
/// fᵢ = −ε LSEⱼ(log bⱼ + (gⱼ − Cᵢⱼ)/ε) written in the scalings). Whenever a sum leaves [10⁻⁵⁰, 10⁵⁰] the scalings are
/// absorbed into (α, β) and K̃ recomputed; an iteration that still cannot be taken in the scalings (small ε, a large
/// first step) is taken in the log domain (<see cref="LogDomainIteration"/>). Both forms are the same map; what the
/// window changes is only which kernel entries below 10⁻³⁰⁸ are dropped, relatively below 10⁻²⁰⁰ of every sum.
/// </summary>
internal sealed class ScalingSinkhornSolver(SinkhornProblem problem) : SinkhornSolver(problem)
{
    /// <summary>Scalings kept within [1/<see cref="ScalingBound"/>, <see cref="ScalingBound"/>].</summary>
    public const double ScalingBound = 1e50;

    /// <summary>|log| of <see cref="ScalingBound"/>: the largest (f − α)/ε the backward pass reads through K̃.</summary>
    public const double LogScalingBound = 115.1;

    protected override bool ReadsThroughKernel => true;

    protected override void Start(SinkhornWorkspace w)
    {
        Absorb(w);
        w.KernelFresh = true;
    }

    protected override double Iterate(SinkhornWorkspace w)
    {
        double eps = Problem.Epsilon;
        bool taken = ScalingIteration(w, out double error);
        if (!taken && !w.KernelFresh)
        {
            // Out of the window: absorb the scalings and try again from u = v = 1.
            Potentials(w.U, w.Alpha, eps, w.Alpha, w.Buffer);
            Potentials(w.V, w.Beta, eps, w.Beta, w.Buffer);
            Absorb(w);
            taken = ScalingIteration(w, out error);
        }
        if (!taken)
        {
            error = LogDomainIteration.Step(Problem, w);
            w.LogIterations++;
            Absorb(w);
        }
        w.KernelFresh = !taken;
        return error;
    }

    protected override void Potentials(SinkhornWorkspace w, Span<double> f, Span<double> g)
    {
        Potentials(w.U, w.Alpha, Problem.Epsilon, f, w.Buffer);
        Potentials(w.V, w.Beta, Problem.Epsilon, g, w.Buffer);
    }

    /// <summary>destination = α + ε log u: the potentials of the scalings.</summary>
    private static void Potentials(ReadOnlySpan<double> scalings, ReadOnlySpan<double> absorbed, double eps, Span<double> destination, Span<double> scratch)
    {
        if (scalings.Length < GibbsKernel.VectorMinimum)
        {
            for (int i = 0; i < scalings.Length; i++) destination[i] = absorbed[i] + eps * Math.Log(scalings[i]);
            return;
        }
        Span<double> logs = scratch[..scalings.Length];   // destination may be absorbed itself
        TensorPrimitives.Log(scalings, logs);
        TensorPrimitives.MultiplyAdd(logs, eps, absorbed, destination);
    }

    /// <summary>
    /// One iteration in the scalings, committed only if every sum stays in the window (false: nothing changed). The
    /// row-marginal error before the update, Σᵢ |(P1)ᵢ/aᵢ − 1|/n, is Σᵢ |uᵢsᵢ − 1|/n with sᵢ = Σⱼ bⱼK̃ᵢⱼvⱼ.
    /// </summary>
    private bool ScalingIteration(SinkhornWorkspace w, out double error)
    {
        int n = Problem.N, m = Problem.M;
        double[] kernel = w.Kernel, u = w.U, uNew = w.UNew, vNew = w.VNew;
        Span<double> bv = w.Bv;
        error = 0;
        SpanMath.ScaledProduct(Problem.Weights, w.V, 1, bv);
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
}
