namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// What SUQUAN learned: the quantile function f (ascending, centred, ‖f‖² = n unless the weights vanished) and the
/// linear model on Ψ_f(x): scores s = W Ψ_f(x) + b, one row of W per output (one output: the logit of class 1;
/// several: softmax scores), and the objective after each half-step.
/// </summary>
internal sealed class SupervisedQuantileModel(double[] quantileFunction, double[] weights, double[] bias, double[] objective, int alternations)
{
    /// <summary>The quantile function f, one value per rank, non-decreasing.</summary>
    public double[] QuantileFunction { get; } = quantileFunction;

    /// <summary>W, <c>[outputs × n]</c> row-major.</summary>
    public double[] Weights { get; } = weights;

    /// <summary>b, one per output.</summary>
    public double[] Bias { get; } = bias;

    /// <summary>Number of outputs (1: binary logistic; k ≥ 2: multinomial).</summary>
    public int Outputs => Bias.Length;

    /// <summary>
    /// The objective (1/N) Σ ℓ + λ/2 ‖W‖² after the first w-step, then after each f-step and each w-step, in order
    /// (non-increasing: every step is a descent method started at the previous point).
    /// </summary>
    public double[] Objective { get; } = objective;

    /// <summary>Alternations run (fewer than asked when one lowered the objective by less than the tolerance).</summary>
    public int Alternations { get; } = alternations;

    /// <summary>Scores of one row: W Ψ_f(x) + b in double, Ψ_f with ties sharing the mean of their targets.</summary>
    public void Score(ReadOnlySpan<float> row, Span<double> scores)
    {
        int n = QuantileFunction.Length;
        Guard.Length(row.Length, n, nameof(row), "one value per slot");
        Guard.Length(scores.Length, Outputs, nameof(scores), "one score per output");
        RankRuns runs = RankRuns.From(row, n, 1);
        var psi = new double[n];
        runs.Normalize(0, QuantileFunction, psi);
        for (int c = 0; c < Outputs; c++) scores[c] = Numerics.SpanMath.Dot(Weights.AsSpan(c * n, n), psi) + Bias[c];
    }
}
