using System.Numerics.Tensors;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Random;
using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed;

/// <summary>
/// The Monte-Carlo estimator behind <see cref="PerturbedOptimizer"/> (docs/architecture.md, Layers): for one row, draws M
/// noise samples from the row's own Philox streams, perturbs θ (additively or multiplicatively), solves, and accumulates
/// ŷ, the perturbed maximum and the score-function JVP/VJP of Berthet et al. 2020, Prop. 3.1 (with the control variate or
/// leave-one-out baseline). The layer checks its arguments and hands rows here through the one row executor.
/// </summary>
internal sealed class PerturbedEstimator
{
    private readonly ObjectPool<Workspace> _workspaces;

    public PerturbedEstimator(Oracle oracle, PerturbedOptimizerOptions options)
    {
        Oracle = oracle;
        Epsilon = options.Epsilon;
        Samples = options.Samples;
        Noise = options.Noise;
        Perturbation = options.Perturbation;
        VarianceReduction = options.VarianceReduction;
        Seed = options.Seed;
        _workspaces = new ObjectPool<Workspace>(() => new Workspace(oracle.Dimension, oracle.OutputDimension));
    }

    public Oracle Oracle { get; }

    public double Epsilon { get; }

    public int Samples { get; }

    public NoiseDistribution Noise { get; }

    public PerturbationKind Perturbation { get; }

    public VarianceReduction VarianceReduction { get; }

    public int Seed { get; }

    /// <summary>Estimates rows [start, end) of a call.</summary>
    public void ProcessRows(int start, int end, in Rows job)
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

    /// <summary>One row: prepare, then draw, perturb, solve and accumulate M samples, then finish the estimates (Prop. 3.1).</summary>
    private unsafe void ProcessRow(int row, in Rows job, Workspace w)
    {
        int d = Oracle.Dimension, dOut = Oracle.OutputDimension, m = Samples;
        var theta = new ReadOnlySpan<float>(job.Theta + (long)row * d, d);
        bool jvp = job.Jvp != null, vjp = job.Vjp != null, keep = job.CotangentFunction != null;
        bool score = jvp || vjp;
        ReadOnlySpan<float> tangent = jvp ? new ReadOnlySpan<float>(job.Tangent + (long)row * d, d) : default;
        ReadOnlySpan<float> cotangent = job.Cotangent != null ? new ReadOnlySpan<float>(job.Cotangent + (long)row * dOut, dOut) : default;
        Prepare(row, theta, w, jvp, vjp, keep);
        // Multiplicative ∇F̂: each solution weighted by its noise factor wₘ (Perturb keeps it in Diff), the gradient of ⟨yₘ, θ ⊙ wₘ⟩.
        bool scaled = job.MaxGradient && Perturbation == PerturbationKind.Multiplicative;

        double maxSum = 0, weightSum = 0;
        for (int k = 0; k < m; k++)
        {
            Perturb(row, k, job.Draw, theta, w, scaled);
            Oracle.SolveRow(w.U, w.Y);
            if (scaled)
            {
                if (!float.IsFinite(TensorPrimitives.Sum(w.Y))) CheckSolution(w.Y, row);
                TensorPrimitives.Multiply(w.Y, w.Diff, w.Y);
                SpanMath.Add(w.Sum, w.Y);
            }
            else if (!PerturbationKernels.AddAllFinite(w.Sum, w.Y))
            {
                CheckSolution(w.Y, row);
            }
            if (job.Max != null)
            {
                // ⟨yₘ, uₘ − θ⟩: the noise's part of ⟨yₘ, uₘ⟩, small whatever |θ| is; ⟨ŷ, θ⟩ is added once per row in double.
                TensorPrimitives.Subtract(w.U, theta, w.Diff);
                maxSum += SpanMath.Dot(w.Y, w.Diff);
            }
            if (score) weightSum += AccumulateScore(k, tangent, cotangent, w, jvp, vjp, keep);
        }

        var solution = new Span<float>(job.Solution + (long)row * dOut, dOut);
        SpanMath.Scale(w.Sum, 1.0 / m, solution);
        if (job.Max != null)
        {
            double value = maxSum / m;
            if (!job.MaxPartOnly)
            {
                for (int i = 0; i < d; i++) value += w.Sum[i] / m * theta[i];
            }
            job.Max[row] = value;
        }
        if (keep) weightSum += ApplyCotangentFunction(row, solution, job.CotangentFunction!, w);
        if (jvp) FinishJvp(row, new Span<float>(job.Jvp + (long)row * dOut, dOut), weightSum, w);
        if (vjp) FinishVjp(row, new Span<float>(job.Vjp + (long)row * d, d), weightSum, w);
    }

    /// <summary>Clears the row's accumulators; solves θ itself for the control variate; computes the multiplicative score scale.</summary>
    private void Prepare(int row, ReadOnlySpan<float> theta, Workspace w, bool jvp, bool vjp, bool keep)
    {
        bool score = jvp || vjp;
        w.Sum.AsSpan().Clear();
        if (jvp) w.JvpSum.AsSpan().Clear();
        if (vjp) w.VjpSum.AsSpan().Clear();
        if (vjp && VarianceReduction == VarianceReduction.LeaveOneOut) w.ScoreSum.AsSpan().Clear();
        if (keep) w.EnsureKept(Samples);
        if (score && VarianceReduction == VarianceReduction.ControlVariate) Oracle.SolveRow(theta, w.Y0);
        if (Perturbation == PerturbationKind.Multiplicative && score)
        {
            // ∇_θ of −log density for η = θ ⊙ exp(εZ − ε²/2): ∇ν(Z)/(εθ).
            for (int i = 0; i < theta.Length; i++)
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
    }

    /// <summary>
    /// Draws sample <paramref name="k"/>'s noise Z into the workspace and writes the perturbed scores U (θ + εZ, or θ ⊙ w with
    /// w = exp(εZ − ε²/2), which <paramref name="keepFactor"/> keeps in Diff).
    /// </summary>
    private void Perturb(int row, int k, ulong draw, ReadOnlySpan<float> theta, Workspace w, bool keepFactor = false)
    {
        Span<float> z = w.Z, u = w.U;
        float eps = (float)Epsilon;
        PhiloxStream stream = PhiloxStream.ForSample(Seed, draw, row, k);
        Noise.Sample(ref stream, z);
        bool finite;
        if (Perturbation == PerturbationKind.Multiplicative)
        {
            float logShift = -0.5f * eps * eps;
            for (int i = 0; i < z.Length; i++) u[i] = eps * z[i] + logShift;
            TensorPrimitives.Exp(u, u);
            if (keepFactor) u.CopyTo(w.Diff);
            TensorPrimitives.Multiply(u, theta, u);
            finite = float.IsFinite(TensorPrimitives.MaxMagnitude(u));
        }
        else
        {
            finite = PerturbationKernels.MultiplyAddAllFinite(z, eps, theta, u);   // θ + εz, rounded as written (not fused)
        }
        if (!finite)
        {
            throw new ArgumentException(
                $"The perturbed scores of row {row} overflow single precision (ε = {Epsilon}); lower ε or rescale the scores.", "theta");
        }
    }

    /// <summary>
    /// Adds sample k's score-function terms: its score s = ∇ν(Z)/ε (or the multiplicative scale), then yₘ⟨s, t⟩ to the
    /// JVP sum, ⟨yₘ, g⟩ s to the VJP sum, or keeps (yₘ, s) for a cotangent function. Returns the sample's baseline weight.
    /// </summary>
    private double AccumulateScore(int k, ReadOnlySpan<float> tangent, ReadOnlySpan<float> cotangent, Workspace w, bool jvp, bool vjp, bool keep)
    {
        int d = Oracle.Dimension, dOut = Oracle.OutputDimension;
        Span<float> y = w.Y, s = w.S;
        double weight = 0;
        Noise.Score(w.Z, s);
        if (Perturbation == PerturbationKind.Multiplicative) TensorPrimitives.Multiply(s, w.ScoreScale, s);
        else TensorPrimitives.Multiply(s, 1f / (float)Epsilon, s);
        if (VarianceReduction == VarianceReduction.ControlVariate) TensorPrimitives.Subtract(y, w.Y0, y);
        if (jvp)
        {
            double a = SpanMath.Dot(s, tangent);
            SpanMath.AddScaled(w.JvpSum, y, a);
            weight += a;
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
            weight += c;
            if (VarianceReduction == VarianceReduction.LeaveOneOut) SpanMath.Add(w.ScoreSum, s);
        }
        return weight;
    }

    /// <summary>Asks the cotangent function for g(ŷ) and adds the kept samples' ⟨yₘ, g⟩ sₘ to the VJP sum; returns Σ ⟨yₘ, g⟩.</summary>
    private double ApplyCotangentFunction(int row, Span<float> solution, CotangentFunction cotangentFunction, Workspace w)
    {
        int d = Oracle.Dimension, dOut = Oracle.OutputDimension;
        double weight = 0;
        Span<float> g = w.G;
        cotangentFunction(row, solution, g);
        Layer.CheckCotangentRow(g, row);
        for (int k = 0; k < Samples; k++)
        {
            ReadOnlySpan<float> sk = w.KeptS.AsSpan(k * d, d);
            double c = SpanMath.Dot(w.KeptY.AsSpan(k * dOut, dOut), g);
            SpanMath.AddScaled(w.VjpSum, sk, c);
            weight += c;
            if (VarianceReduction == VarianceReduction.LeaveOneOut) SpanMath.Add(w.ScoreSum, sk);
        }
        return weight;
    }

    /// <summary>J t = (1/M) Σ yₘ aₘ, or with leave-one-out (Σ yₘaₘ − ȳ Σ aₘ)/(M − 1), ȳ = sum/M.</summary>
    private void FinishJvp(int row, Span<float> outJvp, double weightSum, Workspace w) => Finish(row, w.JvpSum, w.Sum, outJvp, weightSum, "jvp");

    /// <summary>Jᵀg = (1/M) Σ cₘ sₘ, or with leave-one-out (Σ cₘsₘ − c̄ Σ sₘ)/(M − 1).</summary>
    private void FinishVjp(int row, Span<float> outVjp, double weightSum, Workspace w) => Finish(row, w.VjpSum, w.ScoreSum, outVjp, weightSum, "vjp");

    /// <summary>
    /// Writes (1/M) Σ (the accumulated products), or with the leave-one-out baseline (Σ products − (weights' sum / M) Σ
    /// baseline terms)/(M − 1), into <paramref name="output"/> and refuses a value float cannot hold.
    /// </summary>
    private void Finish(int row, Span<double> accumulated, ReadOnlySpan<double> baseline, Span<float> output, double weightSum, string name)
    {
        int m = Samples;
        if (VarianceReduction == VarianceReduction.LeaveOneOut)
        {
            for (int i = 0; i < output.Length; i++) accumulated[i] -= weightSum / m * baseline[i];
            SpanMath.Scale(accumulated, 1.0 / (m - 1), output);
        }
        else
        {
            SpanMath.Scale(accumulated, 1.0 / m, output);
        }
        CheckDerivative(output, row, name);
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
    internal unsafe struct Rows
    {
        public PerturbedEstimator? Estimator;
        public float* Theta, Solution, Tangent, Jvp, Cotangent, Vjp;
        public double* Max;
        public bool MaxPartOnly, MaxGradient;
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
