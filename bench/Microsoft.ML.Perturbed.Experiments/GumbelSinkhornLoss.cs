using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// The Gumbel-Sinkhorn learner (Mena et al. 2018) as a loss over an n × n matching head, for the Gumbel-Sinkhorn column of
/// the sorting experiment. Per row and sample m: X₀ = (μ + s·γₘ)/τ with i.i.d. standard Gumbel γₘ (one per entry, from the
/// row's Philox stream, so the bits do not depend on threads), L Sinkhorn iterations in the log domain, each normalizing
/// the rows and then the columns (X ← X − lse_row(X), X ← X − lse_col(X)), the soft permutation Pₘ = exp(X_L) and the value
/// ½‖Pₘ − y‖² against the target permutation matrix y, averaged over the M samples. The gradient in μ is exact for the
/// unrolled iterations (reverse mode, the noise held fixed): through X ← X − lse(X) along a line,
/// X̄ ← X̄ − softmax(X) · ΣX̄ along the same line. Defaults are the paper's sorting code's: τ = 1, L = 10, s = 1, M = 5.
/// </summary>
internal sealed class GumbelSinkhornLoss : RowwiseLoss
{
    [ThreadStatic] private static double[]? _work;

    /// <summary>Creates the loss for n × n matchings.</summary>
    /// <param name="n">Side of the matching (n² scores per row), at least 1.</param>
    /// <param name="temperature">τ &gt; 0; default 1.</param>
    /// <param name="iterations">L ≥ 1 Sinkhorn iterations (rows, then columns); default 10.</param>
    /// <param name="samples">M ≥ 1 Gumbel samples per row and step; default 5.</param>
    /// <param name="noiseScale">s ≥ 0 multiplying the Gumbel noise (0: plain Sinkhorn); default 1.</param>
    /// <param name="seed">Seed of the noise.</param>
    public GumbelSinkhornLoss(int n, double temperature = 1, int iterations = 10, int samples = 5, double noiseScale = 1, int seed = 0)
        : base(Square(n), Square(n))
    {
        if (!(temperature > 0) || !double.IsFinite(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"'{nameof(temperature)}' must be a finite number greater than 0, got {temperature}.");
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, $"'{nameof(iterations)}' must be at least 1, got {iterations}.");
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, $"'{nameof(samples)}' must be at least 1, got {samples}.");
        if (!(noiseScale >= 0) || !double.IsFinite(noiseScale))
            throw new ArgumentOutOfRangeException(nameof(noiseScale), noiseScale, $"'{nameof(noiseScale)}' must be a finite number ≥ 0, got {noiseScale}.");
        N = n;
        Temperature = temperature;
        Iterations = iterations;
        Samples = samples;
        NoiseScale = noiseScale;
        Seed = seed;
    }

    /// <summary>Side n of the matching.</summary>
    public int N { get; }

    /// <summary>τ.</summary>
    public double Temperature { get; }

    /// <summary>L.</summary>
    public int Iterations { get; }

    /// <summary>M.</summary>
    public int Samples { get; }

    /// <summary>s.</summary>
    public double NoiseScale { get; }

    /// <summary>Seed of the noise.</summary>
    public int Seed { get; }

    /// <inheritdoc/>
    public override string Name => $"GumbelSinkhorn(n={N}, τ={Temperature}, L={Iterations}, M={Samples}, s={NoiseScale})";

    /// <inheritdoc/>
    protected override int ScratchLength => N * N;

    private static int Square(int n) => n is >= 1 and <= 4096
        ? n * n
        : throw new ArgumentOutOfRangeException(nameof(n), n, $"'{nameof(n)}' must be in [1, 4096], got {n}.");

    /// <inheritdoc/>
    protected override double EvaluateRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> gradient, ulong draw, Span<float> scratch)
    {
        int n = N, nn = n * n, half = 2 * Iterations;
        // The iterates X after each half-step (rows, then columns), X₀ first, then the adjoint: (2L + 2) n² doubles.
        double[] work = _work is { } w && w.Length >= (half + 2) * nn ? w : _work = new double[(half + 2) * nn];
        Span<float> gamma = scratch[..nn];
        Span<double> adjoint = work.AsSpan((half + 1) * nn, nn);
        gradient.Clear();
        double value = 0;
        for (int m = 0; m < Samples; m++)
        {
            PhiloxStream stream = PhiloxStream.ForSample(Seed, draw, row, m);
            NoiseDistribution.Gumbel.Sample(ref stream, gamma);
            Span<double> x0 = work.AsSpan(0, nn);
            for (int k = 0; k < nn; k++) x0[k] = (theta[k] + NoiseScale * gamma[k]) / Temperature;
            for (int h = 0; h < half; h++)
            {
                ReadOnlySpan<double> from = work.AsSpan(h * nn, nn);
                Span<double> to = work.AsSpan((h + 1) * nn, nn);
                from.CopyTo(to);
                Normalize(to, n, rows: h % 2 == 0);
            }
            ReadOnlySpan<double> last = work.AsSpan(half * nn, nn);
            double sampleValue = 0;
            for (int k = 0; k < nn; k++)
            {
                double p = Math.Exp(last[k]), r = p - target[k];
                sampleValue += 0.5 * r * r;
                adjoint[k] = r * p;   // ∂/∂X_L of ½‖exp(X_L) − y‖²
            }
            if (!double.IsFinite(sampleValue))
                throw new ArgumentException($"The Sinkhorn iterates of row {row} are not finite; the scores are out of range for τ = {Temperature}.", "theta");
            value += sampleValue;
            for (int h = half - 1; h >= 0; h--) Adjoint(work.AsSpan((h + 1) * nn, nn), adjoint, n, rows: h % 2 == 0);
            for (int k = 0; k < nn; k++) gradient[k] += (float)(adjoint[k] / Temperature);
        }
        for (int k = 0; k < nn; k++) gradient[k] /= Samples;
        return value / Samples;
    }

    /// <summary>X ← X − lse(X) along each row (or each column), in place.</summary>
    private static void Normalize(Span<double> x, int n, bool rows)
    {
        for (int a = 0; a < n; a++)
        {
            double max = double.NegativeInfinity;
            for (int b = 0; b < n; b++) max = Math.Max(max, x[Index(a, b, n, rows)]);
            double sum = 0;
            for (int b = 0; b < n; b++) sum += Math.Exp(x[Index(a, b, n, rows)] - max);
            double lse = max + Math.Log(sum);
            for (int b = 0; b < n; b++) x[Index(a, b, n, rows)] -= lse;
        }
    }

    /// <summary>
    /// The adjoint of one normalization, given its output Y (whose exponentials along the line are the softmax of its
    /// input): X̄ = Ȳ − exp(Y) ΣȲ along each line, in place.
    /// </summary>
    private static void Adjoint(ReadOnlySpan<double> y, Span<double> bar, int n, bool rows)
    {
        for (int a = 0; a < n; a++)
        {
            double sum = 0;
            for (int b = 0; b < n; b++) sum += bar[Index(a, b, n, rows)];
            for (int b = 0; b < n; b++)
            {
                int k = Index(a, b, n, rows);
                bar[k] -= Math.Exp(y[k]) * sum;
            }
        }
    }

    private static int Index(int a, int b, int n, bool rows) => rows ? a * n + b : b * n + a;
}
