using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Random;
using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed;

/// <summary>
/// Makes a linear maximization oracle y*(θ) = argmax_{y∈C} ⟨y, θ⟩ smooth by averaging its answers on noisy
/// scores (Berthet et al. 2020, "Learning with Differentiable Perturbed Optimizers"):
/// y*_ε(θ) = E[y*(θ + εZ)] and F_ε(θ) = E[max_y ⟨y, θ + εZ⟩], estimated with M samples Zₘ and their solutions yₘ.
/// </summary>
/// <remarks>
/// <para>All buffers are row-major batches: θ is <c>[batch × d]</c>, outputs are <c>[batch × d′]</c> with d and d′ the
/// oracle's <see cref="Oracle.Dimension"/> and <see cref="Oracle.OutputDimension"/>.</para>
/// <para>Derivatives use the score-function identities of Prop. 3.1: with ∇ν(z) = −∇ log μ(z),
/// Jᵀg ≈ (1/(Mε)) Σₘ ⟨yₘ, g⟩ ∇ν(Zₘ) and J t ≈ (1/(Mε)) Σₘ yₘ ⟨∇ν(Zₘ), t⟩. They reuse the forward samples: the
/// <c>ForwardJvp</c>/<c>ForwardVjp</c> methods compute ŷ and the derivative in one pass, with no extra solver call.</para>
/// <para>Randomness: sample m of row r in draw k comes from its own counter-based stream
/// (<see cref="PhiloxStream.ForSample"/>), so results depend only on (seed, draw, inputs), never on the number of
/// threads. Calls with the same draw use common random numbers; a training loop passes its step as the draw.</para>
/// <para>The CPU path works one row at a time, in parallel over rows, and never holds M × batch × d values.
/// Instances are immutable and thread-safe; steady-state calls allocate nothing.</para>
/// </remarks>
public sealed class PerturbedOptimizer : Layer
{
    private readonly PerturbedEstimator _estimator;

    /// <summary>Creates a perturbed optimizer over <paramref name="oracle"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range (see <see cref="PerturbedOptimizerOptions"/>).</exception>
    public PerturbedOptimizer(Oracle oracle, PerturbedOptimizerOptions? options = null)
        : base((oracle ?? throw new ArgumentNullException(nameof(oracle))).Dimension, oracle.OutputDimension)
    {
        options ??= new PerturbedOptimizerOptions();
        options.Validate();
        if ((long)options.Samples * Math.Max(oracle.Dimension, oracle.OutputDimension) > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Samples,
                $"'{nameof(options.Samples)}' × the row length ({options.Samples} × {Math.Max(oracle.Dimension, oracle.OutputDimension)}) exceeds the largest buffer .NET can allocate.");
        }
        MaxDegreeOfParallelism = options.MaxDegreeOfParallelism;
        _estimator = new PerturbedEstimator(oracle, options);
    }

    /// <summary>The solver being smoothed.</summary>
    public Oracle Oracle => _estimator.Oracle;

    /// <summary>Noise scale ε.</summary>
    public double Epsilon => _estimator.Epsilon;

    /// <summary>Number M of noise samples per row.</summary>
    public int Samples => _estimator.Samples;

    /// <summary>Noise law.</summary>
    public NoiseDistribution Noise => _estimator.Noise;

    /// <summary>Additive or multiplicative perturbation.</summary>
    public PerturbationKind Perturbation => _estimator.Perturbation;

    /// <summary>Variance reduction used by the JVP/VJP estimates.</summary>
    public VarianceReduction VarianceReduction => _estimator.VarianceReduction;

    /// <summary>Seed of the noise streams.</summary>
    public int Seed => _estimator.Seed;

    /// <summary>Most threads a call may use (−1: all cores).</summary>
    public int MaxDegreeOfParallelism { get; }

    /// <summary>Computes ŷ = (1/M) Σₘ y*(θ + εZₘ) for every row.</summary>
    /// <param name="theta">Scores, <c>[batch × d]</c>, finite (positive for multiplicative perturbation).</param>
    /// <param name="solution">Destination for ŷ_ε(θ), <c>[batch × d′]</c>.</param>
    /// <param name="draw">Index of the noise draw: equal draws reuse the same noise (common random numbers).</param>
    public override void Forward(ReadOnlySpan<float> theta, Span<float> solution, ulong draw = 0)
        => Run(theta, solution, new Request(), draw);

    /// <summary>Computes ŷ and the perturbed maximum F̂ = (1/M) Σₘ ⟨yₘ, θ + εZₘ⟩ for every row.</summary>
    /// <param name="theta">Scores, <c>[batch × d]</c>.</param>
    /// <param name="solution">Destination for ŷ_ε(θ), <c>[batch × d′]</c>.</param>
    /// <param name="perturbedMax">Destination for F̂_ε(θ), one value per row. Requires d′ = d.</param>
    /// <param name="draw">Index of the noise draw.</param>
    /// <exception cref="ArgumentException">F̂ of a row does not fit in single precision (scores near float's maximum): use the double overload.</exception>
    public void Forward(ReadOnlySpan<float> theta, Span<float> solution, Span<float> perturbedMax, ulong draw = 0)
    {
        int batch = Guard.RowCount(theta.Length, Oracle.Dimension, nameof(theta));
        Guard.Length(perturbedMax.Length, batch, nameof(perturbedMax), "one value per row");
        double[] exact = System.Buffers.ArrayPool<double>.Shared.Rent(batch);
        try
        {
            Forward(theta, solution, exact.AsSpan(0, batch), draw);
            for (int r = 0; r < batch; r++)
            {
                perturbedMax[r] = (float)exact[r];
                if (!float.IsFinite(perturbedMax[r]))
                {
                    throw new ArgumentException($"The perturbed maximum of row {r} is {exact[r]:G6}, beyond single precision; use the Span<double> overload.", nameof(theta));
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(exact);
        }
    }

    /// <summary>
    /// Computes ŷ and the perturbed maximum F̂ in double precision, accumulated as ⟨ŷ, θ⟩ + (1/M) Σₘ ⟨yₘ, εZₘ⟩ so that
    /// the noise's contribution survives next to scores of any magnitude.
    /// </summary>
    /// <param name="theta">Scores, <c>[batch × d]</c>.</param>
    /// <param name="solution">Destination for ŷ_ε(θ), <c>[batch × d′]</c>.</param>
    /// <param name="perturbedMax">Destination for F̂_ε(θ), one value per row. Requires d′ = d.</param>
    /// <param name="draw">Index of the noise draw.</param>
    public void Forward(ReadOnlySpan<float> theta, Span<float> solution, Span<double> perturbedMax, ulong draw = 0)
        => Run(theta, solution, new Request { WantMax = true, Max = perturbedMax }, draw);

    /// <summary>ŷ and the noise part of F̂, (1/M) Σₘ ⟨yₘ, θ + εZₘ − θ⟩ (what the Fenchel-Young value needs without cancellation).</summary>
    internal void ForwardNoisePart(ReadOnlySpan<float> theta, Span<float> solution, Span<double> noisePart, ulong draw)
        => Run(theta, solution, new Request { WantMax = true, Max = noisePart, MaxPartOnly = true }, draw);

    /// <summary>
    /// ∇_θ F̂ at the draw, for multiplicative perturbation: F̂(θ) = (1/M) Σₘ max_y ⟨y, θ ⊙ wₘ⟩ with wₘ = exp(εZₘ − ε²/2), so
    /// ∇F̂ = (1/M) Σₘ yₘ ⊙ wₘ (and F̂ = ⟨∇F̂, θ⟩: F̂ is 1-homogeneous). What the multiplicative Fenchel-Young loss needs.
    /// </summary>
    internal void ForwardMaxGradient(ReadOnlySpan<float> theta, Span<float> gradient, ulong draw)
    {
        if (Perturbation != PerturbationKind.Multiplicative)
        {
            throw new InvalidOperationException("Under additive perturbation ∇F̂ is ŷ: call Forward.");
        }
        if (Oracle.OutputDimension != Oracle.Dimension)
        {
            throw new InvalidOperationException($"∇F̂ needs solutions in the space of the scores; {Oracle.Name} maps {Oracle.Dimension} scores to {Oracle.OutputDimension} values.");
        }
        Run(theta, gradient, new Request { MaxGradient = true }, draw);
    }

    /// <summary>Computes ŷ and the Jacobian-vector product J t ≈ (1/(Mε)) Σₘ yₘ ⟨∇ν(Zₘ), t⟩ from the same samples.</summary>
    /// <param name="theta">Scores, <c>[batch × d]</c>.</param>
    /// <param name="tangent">Direction t, <c>[batch × d]</c>.</param>
    /// <param name="solution">Destination for ŷ, <c>[batch × d′]</c>.</param>
    /// <param name="jvp">Destination for J t, <c>[batch × d′]</c>.</param>
    /// <param name="draw">Index of the noise draw.</param>
    public override void ForwardJvp(ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw = 0)
        => Run(theta, solution, new Request { WantJvp = true, Tangent = tangent, Jvp = jvp }, draw);

    /// <summary>Computes ŷ and the vector-Jacobian product Jᵀg ≈ (1/(Mε)) Σₘ ⟨yₘ, g⟩ ∇ν(Zₘ) from the same samples.</summary>
    /// <param name="theta">Scores, <c>[batch × d]</c>.</param>
    /// <param name="cotangent">Upstream gradient g = ∂loss/∂ŷ, <c>[batch × d′]</c>.</param>
    /// <param name="solution">Destination for ŷ, <c>[batch × d′]</c>.</param>
    /// <param name="vjp">Destination for Jᵀg = ∂loss/∂θ, <c>[batch × d]</c>.</param>
    /// <param name="draw">Index of the noise draw.</param>
    public override void ForwardVjp(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
        => Run(theta, solution, new Request { WantVjp = true, Cotangent = cotangent, Vjp = vjp }, draw);

    /// <summary>
    /// Computes ŷ, then asks <paramref name="cotangent"/> for each row's upstream gradient g(ŷ) and returns Jᵀg from
    /// the same samples (they are kept for one row at a time: M × (d + d′) floats per thread). This back-propagates
    /// a loss of ŷ, such as ½‖ŷ − y‖², with one forward pass of solver calls.
    /// </summary>
    /// <param name="theta">Scores, <c>[batch × d]</c>.</param>
    /// <param name="cotangent">Called once per row with ŷ; writes g. Called concurrently for different rows.</param>
    /// <param name="solution">Destination for ŷ, <c>[batch × d′]</c>.</param>
    /// <param name="vjp">Destination for Jᵀg, <c>[batch × d]</c>.</param>
    /// <param name="draw">Index of the noise draw.</param>
    public override void ForwardVjp(ReadOnlySpan<float> theta, CotangentFunction cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
    {
        ArgumentNullException.ThrowIfNull(cotangent);
        Run(theta, solution, new Request { WantVjp = true, CotangentFunction = cotangent, Vjp = vjp }, draw);
    }

    /// <inheritdoc/>
    public override string Name => $"Perturbed({Oracle.Name}, ε={Epsilon}, M={Samples}, {Noise.Name})";

    /// <inheritdoc/>
    public override bool HasJvp => true;

    /// <inheritdoc/>
    public override bool IsStochastic => true;

    /// <inheritdoc/>
    public override string ToString() =>
        $"Perturbed({Oracle.Name}, ε={Epsilon}, M={Samples}, {Noise.Name}, {Perturbation}, {VarianceReduction})";

    /// <summary>What a call wants besides ŷ: the perturbed maximum (or its noise part), J t, Jᵀg for an explicit
    /// cotangent or a cotangent function, or (multiplicative) ∇F̂ in place of ŷ.</summary>
    private readonly ref struct Request
    {
        public bool WantMax { get; init; }
        public bool MaxPartOnly { get; init; }
        public bool MaxGradient { get; init; }
        public Span<double> Max { get; init; }
        public bool WantJvp { get; init; }
        public ReadOnlySpan<float> Tangent { get; init; }
        public Span<float> Jvp { get; init; }
        public bool WantVjp { get; init; }
        public ReadOnlySpan<float> Cotangent { get; init; }
        public CotangentFunction? CotangentFunction { get; init; }
        public Span<float> Vjp { get; init; }
    }

    /// <summary>Checks a call's buffers and runs its rows through the estimator.</summary>
    private unsafe void Run(ReadOnlySpan<float> theta, Span<float> solution, in Request request, ulong draw)
    {
        bool wantMax = request.WantMax, wantJvp = request.WantJvp, wantVjp = request.WantVjp;
        Span<double> perturbedMax = request.Max;
        ReadOnlySpan<float> tangent = request.Tangent, cotangent = request.Cotangent;
        Span<float> jvp = request.Jvp, vjp = request.Vjp;
        CotangentFunction? cotangentFunction = request.CotangentFunction;
        int d = Oracle.Dimension, dOut = Oracle.OutputDimension;
        int batch = Guard.RowCount(theta.Length, d, nameof(theta));
        Guard.Rows(solution.Length, batch, dOut, nameof(solution));
        Guard.Finite(theta, d, nameof(theta));
        if (Perturbation == PerturbationKind.Multiplicative)
        {
            for (int i = 0; i < theta.Length; i++)
            {
                if (!(theta[i] > 0))
                {
                    throw new ArgumentException(
                        $"Multiplicative perturbation needs positive scores, found {theta[i]} at row {i / d}, column {i % d}.", nameof(theta));
                }
            }
        }
        if (wantMax)
        {
            if (dOut != d)
            {
                throw new InvalidOperationException(
                    $"The perturbed maximum ⟨y, θ + εZ⟩ needs solutions in the space of the scores; {Oracle.Name} maps {d} scores to {dOut} values.");
            }
            Guard.Length(perturbedMax.Length, batch, nameof(perturbedMax), "one value per row");
        }
        if (wantJvp)
        {
            Guard.Rows(tangent.Length, batch, d, nameof(tangent));
            Guard.Rows(jvp.Length, batch, dOut, nameof(jvp));
            Guard.Finite(tangent, d, nameof(tangent));
        }
        if (wantVjp)
        {
            if (cotangentFunction is null)
            {
                Guard.Rows(cotangent.Length, batch, dOut, nameof(cotangent));
                Guard.Finite(cotangent, dOut, nameof(cotangent));
            }
            Guard.Rows(vjp.Length, batch, d, nameof(vjp));
        }

        fixed (float* pTheta = theta)
        fixed (float* pSolution = solution)
        fixed (double* pMax = perturbedMax)
        fixed (float* pTangent = tangent)
        fixed (float* pJvp = jvp)
        fixed (float* pCotangent = cotangent)
        fixed (float* pVjp = vjp)
        {
            var rows = new PerturbedEstimator.Rows
            {
                Estimator = _estimator,
                Theta = pTheta,
                Solution = pSolution,
                Max = wantMax ? pMax : null,
                MaxPartOnly = request.MaxPartOnly,
                MaxGradient = request.MaxGradient,
                Tangent = wantJvp ? pTangent : null,
                Jvp = wantJvp ? pJvp : null,
                Cotangent = wantVjp && cotangentFunction is null ? pCotangent : null,
                CotangentFunction = cotangentFunction,
                Vjp = wantVjp ? pVjp : null,
                Draw = draw,
            };
            RowBatch.Run(batch, MaxDegreeOfParallelism, rows, static (in PerturbedEstimator.Rows b, int start, int end) => b.Estimator!.ProcessRows(start, end, in b));
        }
    }
}
