using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// Direct loss minimization with a learned noise scale (Cohen Indelman &amp; Hazan 2021, §4.2–4.3). The randomized
/// predictor is y*(μ + σγ) = argmax_y ⟨μ + σγ, y⟩ with i.i.d. Gumbel γ; the model gives, per row, the d scores μ and one
/// more output v from which σ = softplus(v) (so θ has d + 1 entries; <see cref="StructuredLoss.ScoreDimension"/> is d and
/// a trained predictor keeps μ). The loss-perturbed solution y*(ε) = argmax ⟨μ + σγ + ε t, y⟩ (one more solve; the task
/// loss ℓ = ⟨t, ŷ⟩ + c linear in ŷ) gives the gradients of the expected task loss E_γ ℓ(y, y*(μ + σγ)):
/// ∂/∂μ ≈ (y*(ε) − y*)/ε and ∂/∂σ ≈ ⟨γ, y*(ε) − y*⟩/ε, then ∂σ/∂v = sigmoid(v). The value reported is ℓ(y, y*).
/// </summary>
internal sealed class DirectLossMinimization : RowwiseLoss
{
    private readonly LinearLoss _taskLoss;

    /// <summary>Creates the loss.</summary>
    /// <param name="oracle">The solver (d′ = d).</param>
    /// <param name="taskLoss">The task loss in linear form (see <see cref="LinearLosses"/>).</param>
    /// <param name="options">ε, doublings, samples, noise centring, seed; defaults when null.</param>
    public DirectLossMinimization(Oracle oracle, LinearLoss taskLoss, DirectLossOptions? options = null)
        : base((oracle ?? throw new ArgumentNullException(nameof(oracle))).Dimension + (options?.NoiseScale is null ? 1 : 0), oracle.Dimension)
    {
        ArgumentNullException.ThrowIfNull(taskLoss);
        options ??= new DirectLossOptions();
        if (oracle.OutputDimension != oracle.Dimension)
        {
            throw new ArgumentException($"Direct loss minimization needs solutions in the space of the scores; {oracle.Name} maps {oracle.Dimension} scores to {oracle.OutputDimension} values.", nameof(oracle));
        }
        if (!(options.Epsilon != 0) || !double.IsFinite(options.Epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(options.Epsilon), options.Epsilon, $"'{nameof(options.Epsilon)}' must be a finite number other than 0, got {options.Epsilon}.");
        }
        Check.AtLeast(options.MaxEpsilonDoublings, 0, nameof(options.MaxEpsilonDoublings));
        Check.AtMost(options.MaxEpsilonDoublings, 60, nameof(options.MaxEpsilonDoublings));
        if (!(options.EpsilonGrowth > 1) || !double.IsFinite(options.EpsilonGrowth))
        {
            throw new ArgumentOutOfRangeException(nameof(options.EpsilonGrowth), options.EpsilonGrowth, $"'{nameof(options.EpsilonGrowth)}' must be a finite number greater than 1, got {options.EpsilonGrowth}.");
        }
        if (options.NoiseScale is double fixedScale) Check.FiniteNonNegative(fixedScale, nameof(options.NoiseScale));
        Check.AtLeast(options.Samples, 1, nameof(options.Samples));
        Check.AtMost(options.Samples, PerturbedOptimizerOptions.MaxSamples, nameof(options.Samples));
        Oracle = oracle;
        _taskLoss = taskLoss;
        Epsilon = options.Epsilon;
        MaxEpsilonDoublings = options.MaxEpsilonDoublings;
        EpsilonGrowth = options.EpsilonGrowth;
        NoiseScale = options.NoiseScale;
        Samples = options.Samples;
        ZeroMeanNoise = options.ZeroMeanNoise;
        Seed = options.Seed;
    }

    /// <summary>The solver.</summary>
    public Oracle Oracle { get; }

    /// <summary>ε.</summary>
    public double Epsilon { get; }

    /// <summary>Most growths of |ε| per sample.</summary>
    public int MaxEpsilonDoublings { get; }

    /// <summary>Factor of each growth of |ε|.</summary>
    public double EpsilonGrowth { get; }

    /// <summary>The fixed noise scale, or null when σ is learned.</summary>
    public double? NoiseScale { get; }

    /// <summary>Gumbel samples per row.</summary>
    public int Samples { get; }

    /// <summary>Whether γ is centred.</summary>
    public bool ZeroMeanNoise { get; }

    /// <summary>Seed.</summary>
    public int Seed { get; }

    /// <inheritdoc/>
    public override int ScoreDimension => Oracle.Dimension;

    /// <inheritdoc/>
    public override string Name => $"DirectLoss({Oracle.Name}, ε={Epsilon}, M={Samples}, σ={(NoiseScale is double s ? s.ToString(System.Globalization.CultureInfo.InvariantCulture) : "learned")})";

    /// <inheritdoc/>
    protected override int ScratchLength => 6 * Oracle.Dimension;

    /// <summary>softplus(v) = log(1 + eᵛ), computed without overflow.</summary>
    public static double Softplus(double v) => v > 30 ? v : v < -30 ? Math.Exp(v) : Math.Log(1 + Math.Exp(v));

    /// <inheritdoc/>
    protected override double EvaluateRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> gradient, ulong draw, Span<float> scratch)
    {
        int d = Oracle.Dimension;
        Span<float> t = scratch[..d], gamma = scratch.Slice(d, d), u = scratch.Slice(2 * d, d), y0 = scratch.Slice(3 * d, d),
            uEps = scratch.Slice(4 * d, d), y1 = scratch.Slice(5 * d, d);
        ReadOnlySpan<float> mu = theta[..d];
        bool learned = NoiseScale is null;
        double v = learned ? theta[d] : 0, sigma = NoiseScale ?? Softplus(v), dSigma = 1 / (1 + Math.Exp(-v));
        double c = _taskLoss(target, t);
        Span<float> gMu = gradient[..d];
        gMu.Clear();
        double gSigma = 0, value = 0;
        int sign = Oracle.Sign;
        // With a fixed σ = 0 every sample is the same deterministic solve: one is the whole average.
        int samples = sigma == 0 ? 1 : Samples;
        for (int k = 0; k < samples; k++)
        {
            PhiloxStream stream = PhiloxStream.ForSample(Seed, draw, row, k);
            NoiseDistribution.Gumbel.Sample(ref stream, gamma);
            if (ZeroMeanNoise)
            {
                for (int i = 0; i < d; i++) gamma[i] -= (float)GumbelNoise.EulerGamma;
            }
            for (int i = 0; i < d; i++) u[i] = Finite(mu[i] + sigma * gamma[i], row, i);
            SolverLayer.Solve(Oracle, u, y0, row);
            double sampleLoss = SpanMath.Dot(t, y0) + c;
            value += sampleLoss;
            double eps = Epsilon;
            for (int attempt = 0; ; attempt++)
            {
                // |ε| grows only while the prediction still costs something (the paper's rule: a zero direction with a
                // positive loss); a prediction already at the target keeps its zero gradient.
                // A cost head minimizes: the loss enters with the opposite sign, and so do the gradients below.
                for (int i = 0; i < d; i++)
                {
                    float shifted = (float)(u[i] + sign * eps * t[i]);
                    if (!float.IsFinite(shifted))
                    {
                        throw new ArgumentException($"The direct-loss step μ + σγ ± εt of row {row} overflows single precision at column {i} with ε = {eps} " +
                            $"({attempt} growths by {EpsilonGrowth} from {Epsilon}); use a smaller |Epsilon|, EpsilonGrowth or MaxEpsilonDoublings.", nameof(Epsilon));
                    }
                    uEps[i] = shifted;
                }
                SolverLayer.Solve(Oracle, uEps, y1, row);
                if (attempt >= MaxEpsilonDoublings || !(sampleLoss > 0) || !y1.SequenceEqual(y0)) break;
                eps *= EpsilonGrowth;
            }
            double dot = 0;
            for (int i = 0; i < d; i++)
            {
                double diff = (double)y1[i] - y0[i];
                gMu[i] += (float)(sign * diff / eps);
                dot += gamma[i] * diff;
            }
            gSigma += sign * dot / eps;
        }
        for (int i = 0; i < d; i++) gMu[i] /= samples;
        if (learned) gradient[d] = (float)(gSigma / samples * dSigma);
        return value / samples;
    }

    private static float Finite(double value, int row, int column)
    {
        float f = (float)value;
        return float.IsFinite(f) ? f : throw new ArgumentException($"The perturbed scores of row {row} overflow single precision at column {column}.", "theta");
    }
}
