namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// The transport problem a <see cref="SinkhornSorting"/> operator poses for each row, built once from its options: n
/// inputs with weights a = 1/n, m targets on a regular grid of [0, 1] (the quantile's three at 0, ½, 1) with weights b,
/// the entropic regularization ε and the stopping rule, and what the read-outs need — cumsum(b) and the values f that
/// quantile normalization maps to. Immutable; shared by every row and thread.
/// </summary>
internal sealed class SinkhornProblem
{
    /// <summary>Checks the options that shape the targets and builds the problem (the operator has checked the rest).</summary>
    /// <exception cref="ArgumentException">A target option is out of range; the parameter is <c>options</c>.</exception>
    public SinkhornProblem(int n, SinkhornOptions options)
    {
        N = n;
        Epsilon = options.Epsilon;
        MaxIterations = options.MaxIterations;
        Tolerance = options.Tolerance;
        int m = TargetCount(n, options);
        Grid = new double[m];
        Weights = new double[m];
        if (options.Output == SinkhornOutput.Quantile)
        {
            double t = options.QuantileWidth, tau = options.Level;
            if (!(t > 0 && t < 1) || !(tau > t / 2 && tau < 1 - t / 2))
            {
                throw new ArgumentOutOfRangeException(nameof(options), tau,
                    $"'{nameof(options.Level)}' τ must lie in (t/2, 1 − t/2) for the quantile width t = {t} (0 < t < 1), got τ = {tau}.");
            }
            Grid[0] = 0; Grid[1] = 0.5; Grid[2] = 1;
            Weights[0] = tau - t / 2; Weights[1] = t; Weights[2] = 1 - tau - t / 2;
        }
        else
        {
            for (int j = 0; j < m; j++) Grid[j] = m == 1 ? 0.5 : (double)j / (m - 1);
            if (options.TargetWeights is { } b)
            {
                if (b.Length != m || b.Any(v => !(v > 0) || !double.IsFinite(v)))
                {
                    throw new ArgumentException($"'{nameof(options.TargetWeights)}' must hold {m} positive finite weights, got {b.Length} values.", nameof(options));
                }
                double total = b.Sum();
                for (int j = 0; j < m; j++) Weights[j] = b[j] / total;
            }
            else
            {
                Array.Fill(Weights, 1.0 / m);
            }
        }
        LogWeights = Weights.Select(v => Math.Log(v)).ToArray();
        Cumulative = new double[m];
        for (int j = 0; j < m; j++) Cumulative[j] = (j > 0 ? Cumulative[j - 1] : 0) + Weights[j];
        Values = new double[m];
        if (options.Output == SinkhornOutput.QuantileNormalize)
        {
            double[] f = options.TargetValues
                ?? throw new ArgumentException($"'{nameof(options.TargetValues)}' (the {m} values to normalize to) is required for quantile normalization.", nameof(options));
            if (f.Length != m || f.Any(v => !double.IsFinite(v)))
            {
                throw new ArgumentException($"'{nameof(options.TargetValues)}' must hold {m} finite values, got {f.Length}.", nameof(options));
            }
            for (int j = 1; j < m; j++)
            {
                if (f[j] < f[j - 1])
                {
                    throw new ArgumentException($"'{nameof(options.TargetValues)}' must be sorted ascending; entry {j} ({f[j]}) is below entry {j - 1} ({f[j - 1]}).", nameof(options));
                }
            }
            f.CopyTo(Values, 0);
        }
    }

    /// <summary>Number n of inputs per row (weights a = 1/n).</summary>
    public int N { get; }

    /// <summary>Number m of targets.</summary>
    public int M => Grid.Length;

    /// <summary>Entropic regularization ε.</summary>
    public double Epsilon { get; }

    /// <summary>Most iterations per row.</summary>
    public int MaxIterations { get; }

    /// <summary>Stopping tolerance on the row-marginal error.</summary>
    public double Tolerance { get; }

    /// <summary>Target positions y in [0, 1].</summary>
    public double[] Grid { get; }

    /// <summary>Target weights b (summing to 1).</summary>
    public double[] Weights { get; }

    /// <summary>log b.</summary>
    public double[] LogWeights { get; }

    /// <summary>cumsum(b): the CDF (and, times n, the rank) of each target.</summary>
    public double[] Cumulative { get; }

    /// <summary>The values f that quantile normalization maps to (zeros for the other outputs).</summary>
    public double[] Values { get; }

    /// <summary>m for n inputs: 3 for the quantile, else the option (0: n).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative target count; the parameter is <c>options</c>.</exception>
    public static int TargetCount(int n, SinkhornOptions options) =>
        options.Output == SinkhornOutput.Quantile ? 3 : options.Targets == 0 ? n : options.Targets > 0 ? options.Targets
            : throw new ArgumentOutOfRangeException(nameof(options), options.Targets, $"'{nameof(options.Targets)}' must be ≥ 0 (0: as many as inputs).");

    /// <summary>Whether a row stopped after <paramref name="iterations"/> with this error is capped: at the cap and not within the tolerance.</summary>
    public bool IsCapped(int iterations, double error) => iterations >= MaxIterations && !(error < Tolerance);
}
