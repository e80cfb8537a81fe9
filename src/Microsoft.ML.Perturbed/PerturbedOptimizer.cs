using System.Numerics.Tensors;
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
    private readonly ObjectPool<Workspace> _workspaces;

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
        Oracle = oracle;
        Epsilon = options.Epsilon;
        Samples = options.Samples;
        Noise = options.Noise;
        Perturbation = options.Perturbation;
        VarianceReduction = options.VarianceReduction;
        Seed = options.Seed;
        MaxDegreeOfParallelism = options.MaxDegreeOfParallelism;
        _workspaces = new ObjectPool<Workspace>(() => new Workspace(oracle.Dimension, oracle.OutputDimension));
    }

    /// <summary>The solver being smoothed.</summary>
    public Oracle Oracle { get; }

    /// <summary>Noise scale ε.</summary>
    public double Epsilon { get; }

    /// <summary>Number M of noise samples per row.</summary>
    public int Samples { get; }

    /// <summary>Noise law.</summary>
    public NoiseDistribution Noise { get; }

    /// <summary>Additive or multiplicative perturbation.</summary>
    public PerturbationKind Perturbation { get; }

    /// <summary>Variance reduction used by the JVP/VJP estimates.</summary>
    public VarianceReduction VarianceReduction { get; }

    /// <summary>Seed of the noise streams.</summary>
    public int Seed { get; }

    /// <summary>Most threads a call may use (−1: all cores).</summary>
    public int MaxDegreeOfParallelism { get; }

    /// <summary>Computes ŷ = (1/M) Σₘ y*(θ + εZₘ) for every row.</summary>
    /// <param name="theta">Scores, <c>[batch × d]</c>, finite (positive for multiplicative perturbation).</param>
    /// <param name="solution">Destination for ŷ_ε(θ), <c>[batch × d′]</c>.</param>
    /// <param name="draw">Index of the noise draw: equal draws reuse the same noise (common random numbers).</param>
    public override void Forward(ReadOnlySpan<float> theta, Span<float> solution, ulong draw = 0)
        => Run(theta, solution, Span<double>.Empty, ReadOnlySpan<float>.Empty, Span<float>.Empty,
            ReadOnlySpan<float>.Empty, null, Span<float>.Empty, draw, wantMax: false);

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
        => Run(theta, solution, perturbedMax, ReadOnlySpan<float>.Empty, Span<float>.Empty,
            ReadOnlySpan<float>.Empty, null, Span<float>.Empty, draw, wantMax: true);

    /// <summary>ŷ and the noise part of F̂, (1/M) Σₘ ⟨yₘ, θ + εZₘ − θ⟩ (what the Fenchel-Young value needs without cancellation).</summary>
    internal void ForwardNoisePart(ReadOnlySpan<float> theta, Span<float> solution, Span<double> noisePart, ulong draw)
        => Run(theta, solution, noisePart, ReadOnlySpan<float>.Empty, Span<float>.Empty,
            ReadOnlySpan<float>.Empty, null, Span<float>.Empty, draw, wantMax: true, maxPartOnly: true);

    /// <summary>Computes ŷ and the Jacobian-vector product J t ≈ (1/(Mε)) Σₘ yₘ ⟨∇ν(Zₘ), t⟩ from the same samples.</summary>
    /// <param name="theta">Scores, <c>[batch × d]</c>.</param>
    /// <param name="tangent">Direction t, <c>[batch × d]</c>.</param>
    /// <param name="solution">Destination for ŷ, <c>[batch × d′]</c>.</param>
    /// <param name="jvp">Destination for J t, <c>[batch × d′]</c>.</param>
    /// <param name="draw">Index of the noise draw.</param>
    public override void ForwardJvp(ReadOnlySpan<float> theta, ReadOnlySpan<float> tangent, Span<float> solution, Span<float> jvp, ulong draw = 0)
        => Run(theta, solution, Span<double>.Empty, tangent, jvp, ReadOnlySpan<float>.Empty, null, Span<float>.Empty, draw, wantMax: false, wantJvp: true);

    /// <summary>Computes ŷ and the vector-Jacobian product Jᵀg ≈ (1/(Mε)) Σₘ ⟨yₘ, g⟩ ∇ν(Zₘ) from the same samples.</summary>
    /// <param name="theta">Scores, <c>[batch × d]</c>.</param>
    /// <param name="cotangent">Upstream gradient g = ∂loss/∂ŷ, <c>[batch × d′]</c>.</param>
    /// <param name="solution">Destination for ŷ, <c>[batch × d′]</c>.</param>
    /// <param name="vjp">Destination for Jᵀg = ∂loss/∂θ, <c>[batch × d]</c>.</param>
    /// <param name="draw">Index of the noise draw.</param>
    public override void ForwardVjp(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
        => Run(theta, solution, Span<double>.Empty, ReadOnlySpan<float>.Empty, Span<float>.Empty, cotangent, null, vjp, draw, wantMax: false, wantVjp: true);

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
        Run(theta, solution, Span<double>.Empty, ReadOnlySpan<float>.Empty, Span<float>.Empty, ReadOnlySpan<float>.Empty, cotangent, vjp, draw,
            wantMax: false, wantVjp: true);
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

    private unsafe void Run(ReadOnlySpan<float> theta, Span<float> solution, Span<double> perturbedMax,
        ReadOnlySpan<float> tangent, Span<float> jvp, ReadOnlySpan<float> cotangent, CotangentFunction? cotangentFunction,
        Span<float> vjp, ulong draw, bool wantMax, bool wantJvp = false, bool wantVjp = false, bool maxPartOnly = false)
    {
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
            var rows = new Rows
            {
                Owner = this,
                Theta = pTheta,
                Solution = pSolution,
                Max = wantMax ? pMax : null,
                MaxPartOnly = maxPartOnly,
                Tangent = wantJvp ? pTangent : null,
                Jvp = wantJvp ? pJvp : null,
                Cotangent = wantVjp && cotangentFunction is null ? pCotangent : null,
                CotangentFunction = cotangentFunction,
                Vjp = wantVjp ? pVjp : null,
                Draw = draw,
            };
            RowBatch.Run(batch, MaxDegreeOfParallelism, rows, static (in Rows b, int start, int end) => b.Owner!.ProcessRows(start, end, in b));
        }
    }

    private void ProcessRows(int start, int end, in Rows job)
    {
        Workspace w = _workspaces.Rent();
        try
        {
            for (int row = start; row < end; row++)
            {
                ProcessRow(row, in job, w);
            }
        }
        finally
        {
            _workspaces.Return(w);
        }
    }

    /// <summary>One row: draw, perturb, solve and accumulate M samples, then finish the estimates (Prop. 3.1).</summary>
    private unsafe void ProcessRow(int row, in Rows job, Workspace w)
    {
        int d = Oracle.Dimension, dOut = Oracle.OutputDimension, m = Samples;
        var theta = new ReadOnlySpan<float>(job.Theta + (long)row * d, d);
        bool jvp = job.Jvp != null, vjp = job.Vjp != null, keep = job.CotangentFunction != null;
        bool score = jvp || vjp;
        bool controlVariate = score && VarianceReduction == VarianceReduction.ControlVariate;
        bool leaveOneOut = VarianceReduction == VarianceReduction.LeaveOneOut;
        bool multiplicative = Perturbation == PerturbationKind.Multiplicative;
        float eps = (float)Epsilon;
        float logShift = multiplicative ? -0.5f * eps * eps : 0f;

        Span<float> z = w.Z, u = w.U, y = w.Y, s = w.S;
        Span<double> sum = w.Sum;
        sum.Clear();
        ReadOnlySpan<float> tangent = jvp ? new ReadOnlySpan<float>(job.Tangent + (long)row * d, d) : default;
        ReadOnlySpan<float> cotangent = job.Cotangent != null ? new ReadOnlySpan<float>(job.Cotangent + (long)row * dOut, dOut) : default;
        if (jvp) w.JvpSum.AsSpan().Clear();
        if (vjp) w.VjpSum.AsSpan().Clear();
        if (vjp && leaveOneOut) w.ScoreSum.AsSpan().Clear();
        if (keep) w.EnsureKept(m);
        if (controlVariate) Oracle.SolveRow(theta, w.Y0);
        if (multiplicative && score)
        {
            // ∇_θ of −log density for η = θ ⊙ exp(εZ − ε²/2): ∇ν(Z)/(εθ).
            for (int i = 0; i < d; i++)
            {
                float scale = (float)(1.0 / (Epsilon * theta[i]));
                if (!float.IsFinite(scale))
                {
                    throw new ArgumentException(
                        $"The multiplicative derivative, of order 1/(εθ), overflows single precision at row {row}, column {i} (θ = {theta[i]}, ε = {Epsilon}); rescale the scores.", "theta");
                }
                w.ScoreScale[i] = scale;
            }
        }

        double maxSum = 0, weightSum = 0;
        for (int k = 0; k < m; k++)
        {
            PhiloxStream stream = PhiloxStream.ForSample(Seed, job.Draw, row, k);
            Noise.Sample(ref stream, z);
            if (multiplicative)
            {
                for (int i = 0; i < d; i++) u[i] = eps * z[i] + logShift;
                TensorPrimitives.Exp(u, u);
                TensorPrimitives.Multiply(u, theta, u);
            }
            else
            {
                TensorPrimitives.MultiplyAdd(z, eps, theta, u);   // θ + εz, rounded as written (not fused)
            }
            if (!float.IsFinite(TensorPrimitives.MaxMagnitude(u)))
            {
                throw new ArgumentException(
                    $"The perturbed scores of row {row} overflow single precision (ε = {Epsilon}); lower ε or rescale the scores.", "theta");
            }
            Oracle.SolveRow(u, y);
            if (!float.IsFinite(TensorPrimitives.Sum(y))) CheckSolution(y, row);
            SpanMath.Add(sum, y);
            if (job.Max != null)
            {
                // ⟨yₘ, uₘ − θ⟩: the noise's part of ⟨yₘ, uₘ⟩, small whatever |θ| is; ⟨ŷ, θ⟩ is added once per row in double.
                TensorPrimitives.Subtract(u, theta, w.Diff);
                maxSum += SpanMath.Dot(y, w.Diff);
            }
            if (!score)
            {
                continue;
            }
            Noise.Score(z, s);
            if (multiplicative) TensorPrimitives.Multiply(s, w.ScoreScale, s);
            else TensorPrimitives.Multiply(s, 1f / eps, s);
            if (controlVariate) TensorPrimitives.Subtract(y, w.Y0, y);
            if (jvp)
            {
                double a = SpanMath.Dot(s, tangent);
                SpanMath.AddScaled(w.JvpSum, y, a);
                weightSum += a;
            }
            if (keep)
            {
                y.CopyTo(w.KeptY.AsSpan(k * dOut, dOut));
                s.CopyTo(w.KeptS.AsSpan(k * d, d));
            }
            else if (vjp)
            {
                double c = SpanMath.Dot(y, cotangent);
                SpanMath.AddScaled(w.VjpSum, s, c);
                weightSum += c;
                if (leaveOneOut) SpanMath.Add(w.ScoreSum, s);
            }
        }

        var solution = new Span<float>(job.Solution + (long)row * dOut, dOut);
        SpanMath.Scale(sum, 1.0 / m, solution);
        if (job.Max != null)
        {
            double value = maxSum / m;
            if (!job.MaxPartOnly)
            {
                for (int i = 0; i < d; i++) value += sum[i] / m * theta[i];
            }
            job.Max[row] = value;
        }
        if (keep)
        {
            Span<float> g = w.G;
            job.CotangentFunction!(row, solution, g);
            CheckCotangentRow(g, row);
            for (int k = 0; k < m; k++)
            {
                ReadOnlySpan<float> sk = w.KeptS.AsSpan(k * d, d);
                double c = SpanMath.Dot(w.KeptY.AsSpan(k * dOut, dOut), g);
                SpanMath.AddScaled(w.VjpSum, sk, c);
                weightSum += c;
                if (leaveOneOut) SpanMath.Add(w.ScoreSum, sk);
            }
        }
        if (jvp)
        {
            var outJvp = new Span<float>(job.Jvp + (long)row * dOut, dOut);
            if (leaveOneOut)
            {
                // (1/(M−1)) Σₘ (yₘ − ȳ) aₘ = (Σ yₘaₘ − ȳ Σ aₘ)/(M−1), with ȳ = sum/M.
                for (int i = 0; i < dOut; i++) w.JvpSum[i] -= weightSum / m * sum[i];
                SpanMath.Scale(w.JvpSum, 1.0 / (m - 1), outJvp);
            }
            else
            {
                SpanMath.Scale(w.JvpSum, 1.0 / m, outJvp);
            }
            CheckDerivative(outJvp, row, "jvp");
        }
        if (vjp)
        {
            var outVjp = new Span<float>(job.Vjp + (long)row * d, d);
            if (leaveOneOut)
            {
                // (1/(M−1)) Σₘ (cₘ − c̄) sₘ = (Σ cₘsₘ − c̄ Σ sₘ)/(M−1).
                for (int i = 0; i < d; i++) w.VjpSum[i] -= weightSum / m * w.ScoreSum[i];
                SpanMath.Scale(w.VjpSum, 1.0 / (m - 1), outVjp);
            }
            else
            {
                SpanMath.Scale(w.VjpSum, 1.0 / m, outVjp);
            }
            CheckDerivative(outVjp, row, "vjp");
        }
    }

    /// <summary>Names the oracle, row and column of a non-finite entry in a solution (a user solver's NaN is not passed on).</summary>
    private void CheckSolution(ReadOnlySpan<float> y, int row)
    {
        for (int i = 0; i < y.Length; i++)
        {
            if (!float.IsFinite(y[i]))
            {
                throw new InvalidOperationException($"Oracle {Oracle.Name} wrote {y[i]} at row {row}, column {i}; a solution must be finite.");
            }
        }
    }

    /// <summary>Refuses a derivative that single precision cannot hold (of order 1/ε), naming the row.</summary>
    private void CheckDerivative(ReadOnlySpan<float> values, int row, string name)
    {
        if (float.IsFinite(TensorPrimitives.Sum(values))) return;
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentOutOfRangeException(name,
                    $"The Monte-Carlo derivative at row {row}, column {i} does not fit in single precision (it scales as 1/ε, ε = {Epsilon}); use a larger ε or smaller upstream gradients.");
            }
        }
    }

    /// <summary>One call's buffers (null where the call does not want that output) and options.</summary>
    private unsafe struct Rows
    {
        public PerturbedOptimizer? Owner;
        public float* Theta, Solution, Tangent, Jvp, Cotangent, Vjp;
        public double* Max;
        public bool MaxPartOnly;
        public CotangentFunction? CotangentFunction;
        public ulong Draw;
    }

    /// <summary>Per-thread buffers for one row: O(d + d′), plus M × (d + d′) only when a cotangent function is used.</summary>
    private sealed class Workspace(int d, int dOut)
    {
        public readonly float[] Z = new float[d], U = new float[d], S = new float[d], ScoreScale = new float[d], Diff = new float[d];
        public readonly float[] Y = new float[dOut], Y0 = new float[dOut], G = new float[dOut];
        public readonly double[] Sum = new double[dOut], JvpSum = new double[dOut], VjpSum = new double[d], ScoreSum = new double[d];
        public float[] KeptY = [], KeptS = [];

        public void EnsureKept(int samples)
        {
            if (KeptY.Length < samples * dOut)
            {
                KeptY = new float[samples * dOut];
                KeptS = new float[samples * d];
            }
        }
    }
}
