using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Noise;

/// <summary>
/// Sum-of-Gamma noise (Niepert et al. 2021, the default noise of I-MLE; PyEPO's <c>sumGammaDistribution</c>):
/// SoG(κ, τ, s) = (τ/κ)(Σ_{i=1..s} Gᵢ − ln s) with Gᵢ ~ Gamma(shape 1/κ, scale κ/i) independent, so that the sum of κ
/// independent copies tends to a Gumbel(0, τ) variable as s grows. Mean (τ/κ)(H_s − ln s), variance (τ²/κ) Σ_{i≤s} 1/i²
/// (<see cref="Mean"/>, <see cref="Variance"/>). Its density has no closed form, so it gives samples only: the score
/// ∇ν and ν throw <see cref="NotSupportedException"/> — it perturbs I-MLE (which needs no score), never a
/// <see cref="PerturbedOptimizer"/>, and is internal for that reason.
/// </summary>
/// <remarks>
/// Each coordinate draws G₁, …, G_s in order from the stream, each by Marsaglia &amp; Tsang's (2000) exact rejection method
/// for shape a + 1 ≥ 1 — a standard normal by Box–Muller (both values of a pair used, in order) and one uniform per try —
/// then, for shape a &lt; 1, the boost G·U^{1/a}. Scalar double arithmetic: the values depend on the stream only.
/// </remarks>
internal sealed class SumOfGammaNoise : NoiseDistribution
{
    private readonly double[] _scales;         // κ/i, i = 1..s
    private readonly double _d, _c;            // Marsaglia–Tsang constants of shape max(a, a + 1)
    private readonly bool _boost;              // shape a = 1/κ < 1
    private readonly double _factor, _logTerms;

    /// <summary>PyEPO's and the paper's default: κ = 5, s = 10, τ = 1.</summary>
    public static SumOfGammaNoise Default { get; } = new(5, 10, 1);

    /// <summary>Creates the law.</summary>
    /// <param name="kappa">κ &gt; 0 (the Gamma shape is 1/κ).</param>
    /// <param name="terms">s ≥ 1 terms (at most 10,000).</param>
    /// <param name="temperature">τ &gt; 0, the scale.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range (named).</exception>
    public SumOfGammaNoise(double kappa, int terms, double temperature)
    {
        Check.FinitePositive(kappa, nameof(kappa));
        Check.AtLeast(terms, 1, nameof(terms));
        Check.AtMost(terms, 10_000, nameof(terms));
        Check.FinitePositive(temperature, nameof(temperature));
        (Kappa, Terms, Temperature) = (kappa, terms, temperature);
        double shape = 1 / kappa;
        _boost = shape < 1;
        _d = (_boost ? shape + 1 : shape) - 1.0 / 3;
        _c = 1 / Math.Sqrt(9 * _d);
        _scales = new double[terms];
        for (int i = 0; i < terms; i++) _scales[i] = kappa / (i + 1);
        _factor = temperature / kappa;
        _logTerms = Math.Log(terms);
    }

    /// <summary>κ.</summary>
    public double Kappa { get; }

    /// <summary>s, the number of Gamma terms.</summary>
    public int Terms { get; }

    /// <summary>τ.</summary>
    public double Temperature { get; }

    /// <summary>The mean (τ/κ)(H_s − ln s).</summary>
    public double Mean
    {
        get
        {
            double harmonic = 0;
            for (int i = 1; i <= Terms; i++) harmonic += 1.0 / i;
            return _factor * (harmonic - _logTerms);
        }
    }

    /// <summary>The variance (τ²/κ) Σ_{i≤s} 1/i².</summary>
    public double Variance
    {
        get
        {
            double sum = 0;
            for (int i = 1; i <= Terms; i++) sum += 1.0 / ((double)i * i);
            return Temperature * Temperature / Kappa * sum;
        }
    }

    /// <inheritdoc/>
    public override string Name => FormattableString.Invariant($"SumOfGamma(κ={Kappa}, s={Terms}, τ={Temperature})");

    /// <inheritdoc/>
    internal override void Sample(ref PhiloxStream stream, Span<float> destination)
    {
        double spare = double.NaN;   // the second normal of a Box–Muller pair
        for (int j = 0; j < destination.Length; j++)
        {
            double sum = 0;
            for (int i = 0; i < _scales.Length; i++) sum += _scales[i] * StandardGamma(ref stream, ref spare);
            destination[j] = (float)(_factor * (sum - _logTerms));
        }
    }

    /// <summary>One Gamma(1/κ, 1) draw: Marsaglia–Tsang for shape max(a, a + 1), boosted by U^{1/a} when a &lt; 1.</summary>
    internal double StandardGamma(ref PhiloxStream stream, ref double spare)
    {
        double x, v;
        while (true)
        {
            do
            {
                x = StandardNormal(ref stream, ref spare);
                v = 1 + _c * x;
            }
            while (v <= 0);
            v = v * v * v;
            double u = stream.NextDouble(), x2 = x * x;
            if (u < 1 - 0.0331 * x2 * x2 || Math.Log(u) < 0.5 * x2 + _d * (1 - v + Math.Log(v))) break;
        }
        double g = _d * v;
        return _boost ? g * Math.Exp(Math.Log(stream.NextDouble()) * Kappa) : g;
    }

    private static double StandardNormal(ref PhiloxStream stream, ref double spare)
    {
        if (!double.IsNaN(spare))
        {
            double z = spare;
            spare = double.NaN;
            return z;
        }
        double r = Math.Sqrt(-2 * Math.Log(stream.NextDouble())), angle = 2 * Math.PI * stream.NextDouble();
        spare = r * Math.Sin(angle);
        return r * Math.Cos(angle);
    }

    /// <summary>Not defined: the Sum-of-Gamma density has no closed form.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    internal override void Score(ReadOnlySpan<float> z, Span<float> destination) => throw NoDensity();

    /// <summary>Not defined: the Sum-of-Gamma density has no closed form.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    internal override double NegativeLogDensity(double z) => throw NoDensity();

    private NotSupportedException NoDensity() =>
        new($"{Name} has no closed-form density, so no score ∇ν: it perturbs I-MLE, which needs its samples only, not a score-function estimator.");
}
