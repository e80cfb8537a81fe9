using System.Numerics.Tensors;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Random;
using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed.Layers;

/// <summary>
/// Implicit maximum-likelihood estimation, I-MLE (Niepert et al. 2021; PyEPO's <c>implicitMLE</c>): forward the perturbed
/// mean ŷ = (1/M) Σₘ y*(θ + σεₘ), εₘ from <see cref="Noise"/> (the registered loss: Sum-of-Gamma, <see cref="SumOfGammaNoise"/>);
/// backward, for an upstream gradient g, the target distribution θ′ and the mean difference of perturbed solutions over
/// the same εₘ (common random numbers, so the difference is the effect of λg alone), divided by λ — blackbox
/// interpolation averaged over the perturbations, one extra solve per sample.
/// </summary>
/// <remarks>
/// Senses (one sign s = <see cref="Oracle.Sign"/>): a maximizer (the paper's form) takes θ′ = θ − λg and
/// ∇ = (1/M) Σ [y*(θ + σεₘ) − y*(θ′ + σεₘ)]/λ; a minimizer with costs c (PyEPO's form) takes c′ = c + λg and
/// ∇ = (1/M) Σ [y*(c′ + σεₘ) − y*(c + σεₘ)]/λ. Both are θ′ = θ − sλg, ∇ = s·(Σ yₘ − Σ y′ₘ)/(Mλ). The forward pass keeps
/// a row's M noise vectors (M·d floats per thread, pooled), so the backward pass solves at θ′ with the same draws; a
/// cotangent function (a loss of ŷ) is called once per row between the two, so a loss costs 2M solves per row. λ and σ are
/// in the units of θ (no projection). Parallel rows through <see cref="RowBatch"/>; a row depends on (seed, draw, row, inputs) only.
/// </remarks>
internal sealed class ImplicitMleLayer : Layer
{
    private readonly ObjectPool<Workspace> _workspaces;

    /// <summary>Creates the layer.</summary>
    /// <param name="oracle">The solver; its solutions live in the space of its scores (θ′ = θ ∓ λg).</param>
    /// <param name="sigma">Noise scale σ in [1e-30, 1e30] (the loss options' <c>Epsilon</c>).</param>
    /// <param name="lambda">Interpolation step λ in [1e-30, 1e30] (the loss options' <c>BlackboxLambda</c>).</param>
    /// <param name="samples">Perturbations M per row, 1 to 2²⁰, with M·d ≤ <see cref="Array.MaxLength"/>.</param>
    /// <param name="noise">The law of εₘ (samples only).</param>
    /// <param name="seed">Seed of the Philox streams (seed, draw, row, sample).</param>
    /// <exception cref="ArgumentException">An argument is out of range or the oracle's solutions are not in the space of its scores (named).</exception>
    public ImplicitMleLayer(Oracle oracle, double sigma, double lambda, int samples, NoiseDistribution noise, int seed)
        : base((oracle ?? throw new ArgumentNullException(nameof(oracle))).Dimension, oracle.OutputDimension)
    {
        ArgumentNullException.ThrowIfNull(noise);
        if (oracle.OutputDimension != oracle.Dimension)
        {
            throw new ArgumentException($"I-MLE's target θ ∓ λg needs solutions in the space of the scores; {oracle.Name} maps {oracle.Dimension} scores to {oracle.OutputDimension} values.", nameof(oracle));
        }
        Check.InRange(sigma, PerturbedOptimizerOptions.MinEpsilon, PerturbedOptimizerOptions.MaxEpsilon, nameof(sigma));
        BlackboxLayer.CheckLambda(lambda, nameof(lambda));
        Check.AtLeast(samples, 1, nameof(samples));
        Check.AtMost(samples, PerturbedOptimizerOptions.MaxSamples, nameof(samples));
        if ((long)samples * oracle.Dimension > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(samples), samples, $"'{nameof(samples)}' × row length = {(long)samples * oracle.Dimension} noise values exceed an array's {Array.MaxLength}.");
        }
        (Oracle, Sigma, Lambda, Samples, Noise, Seed) = (oracle, sigma, lambda, samples, noise, seed);
        _workspaces = new ObjectPool<Workspace>(() => new Workspace(Dimension, samples));
    }

    /// <summary>The solver.</summary>
    public Oracle Oracle { get; }

    /// <summary>σ.</summary>
    public double Sigma { get; }

    /// <summary>λ.</summary>
    public double Lambda { get; }

    /// <summary>M.</summary>
    public int Samples { get; }

    /// <summary>The law of the perturbations.</summary>
    public NoiseDistribution Noise { get; }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>Most threads a call may use; −1 (default) uses every core. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <inheritdoc/>
    public override string Name => FormattableString.Invariant($"ImplicitMle({Oracle.Name}, σ={Sigma}, λ={Lambda}, M={Samples}, {Noise.Name})");

    /// <inheritdoc/>
    public override bool IsStochastic => true;

    /// <inheritdoc/>
    public override void Forward(ReadOnlySpan<float> theta, Span<float> solution, ulong draw = 0)
    {
        int batch = CheckInput(theta);
        Guard.Rows(solution.Length, batch, OutputDimension, nameof(solution));
        Run(batch, theta, default, null, solution, default, draw, withVjp: false);
    }

    /// <inheritdoc/>
    public override void ForwardVjp(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
    {
        int batch = CheckVjp(theta, cotangent, solution, vjp);
        Run(batch, theta, cotangent, null, solution, vjp, draw, withVjp: true);
    }

    /// <inheritdoc/>
    /// <remarks>One pass: the M perturbed solutions give ŷ, the function gives g(ŷ), the same M perturbations at θ′ give the VJP.</remarks>
    public override void ForwardVjp(ReadOnlySpan<float> theta, CotangentFunction cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
    {
        ArgumentNullException.ThrowIfNull(cotangent);
        int batch = CheckInput(theta);
        Guard.Rows(solution.Length, batch, OutputDimension, nameof(solution));
        Guard.Rows(vjp.Length, batch, Dimension, nameof(vjp));
        Run(batch, theta, default, cotangent, solution, vjp, draw, withVjp: true);
    }

    private unsafe void Run(int batch, ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, CotangentFunction? function, Span<float> solution, Span<float> vjp, ulong draw, bool withVjp)
    {
        fixed (float* pTheta = theta)
        fixed (float* pCotangent = cotangent)
        fixed (float* pSolution = solution)
        fixed (float* pVjp = vjp)
        {
            RowBatch.Run(batch, MaxDegreeOfParallelism, new Rows(this, pTheta, pCotangent, function, pSolution, withVjp ? pVjp : null, draw),
                static (in Rows b, int start, int end) => b.Owner.ProcessRows(start, end, in b));
        }
    }

    private void ProcessRows(int start, int end, in Rows job)
    {
        Workspace w = _workspaces.Rent();
        try
        {
            for (int row = start; row < end; row++) ProcessRow(row, in job, w);
        }
        finally
        {
            _workspaces.Return(w);
        }
    }

    private unsafe void ProcessRow(int row, in Rows job, Workspace w)
    {
        int d = Dimension, m = Samples;
        var theta = new ReadOnlySpan<float>(job.Theta + (long)row * d, d);
        var solution = new Span<float>(job.Solution + (long)row * d, d);
        w.Sum.AsSpan().Clear();
        for (int k = 0; k < m; k++)
        {
            Span<float> z = w.Noise.AsSpan(k * d, d);
            PhiloxStream stream = PhiloxStream.ForSample(Seed, job.Draw, row, k);
            Noise.Sample(ref stream, z);
            SolvePerturbed(theta, z, w, row, "theta");
            SpanMath.Add(w.Sum, w.Y);
        }
        SpanMath.Scale(w.Sum, 1.0 / m, solution);
        if (job.Vjp == null) return;

        ReadOnlySpan<float> g;
        if (job.Function is { } function)
        {
            function(row, solution, w.G);
            CheckCotangentRow(w.G, row);
            g = w.G;
        }
        else
        {
            g = new ReadOnlySpan<float>(job.Cotangent + (long)row * d, d);
        }
        int s = Oracle.Sign;
        for (int i = 0; i < d; i++)
        {
            w.Target[i] = (float)(theta[i] - s * Lambda * g[i]);
            if (!float.IsFinite(w.Target[i])) throw new ArgumentException($"θ ∓ λg overflows single precision at row {row}, column {i} (λ = {Lambda}).", "cotangent");
        }
        w.TargetSum.AsSpan().Clear();
        for (int k = 0; k < m; k++)
        {
            SolvePerturbed(w.Target, w.Noise.AsSpan(k * d, d), w, row, "cotangent");
            SpanMath.Add(w.TargetSum, w.Y);
        }
        var vjp = new Span<float>(job.Vjp + (long)row * d, d);
        double scale = s / (m * Lambda);
        for (int i = 0; i < d; i++)
        {
            vjp[i] = (float)(scale * (w.Sum[i] - w.TargetSum[i]));
            if (!float.IsFinite(vjp[i]))
            {
                throw new ArgumentException($"The I-MLE VJP (Σ yₘ − Σ y′ₘ)/(Mλ) overflows single precision at row {row}, column {i} (λ = {Lambda}); use a larger λ.", "cotangent");
            }
        }
    }

    /// <summary>Solves at u = θ + σz (rounded as written, as the perturbed optimizer does) into the workspace's Y.</summary>
    private void SolvePerturbed(ReadOnlySpan<float> theta, ReadOnlySpan<float> z, Workspace w, int row, string argument)
    {
        TensorPrimitives.MultiplyAdd(z, (float)Sigma, theta, w.U);
        if (!float.IsFinite(TensorPrimitives.MaxMagnitude(w.U)))
        {
            throw new ArgumentException($"The perturbed scores of row {row} overflow single precision (σ = {Sigma}); lower σ or rescale the scores.", argument);
        }
        SolverLayer.Solve(Oracle, w.U, w.Y, row);
    }

    private readonly unsafe struct Rows(ImplicitMleLayer owner, float* theta, float* cotangent, CotangentFunction? function, float* solution, float* vjp, ulong draw)
    {
        public ImplicitMleLayer Owner => owner;
        public float* Theta => theta;
        public float* Cotangent => cotangent;
        public CotangentFunction? Function => function;
        public float* Solution => solution;
        public float* Vjp => vjp;
        public ulong Draw => draw;
    }

    /// <summary>A thread's buffers: the row's M noise vectors, the perturbed scores and solution, g, θ′ and both sums.</summary>
    private sealed class Workspace(int d, int samples)
    {
        public readonly float[] Noise = new float[(long)samples * d], U = new float[d], Y = new float[d], G = new float[d], Target = new float[d];
        public readonly double[] Sum = new double[d], TargetSum = new double[d];
    }
}
