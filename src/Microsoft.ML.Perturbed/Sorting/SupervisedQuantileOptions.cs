namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Settings of <see cref="SupervisedQuantileNormalization.Fit"/> (SUQUAN). Each is checked once, by <see cref="Validate"/>,
/// under its own name.
/// </summary>
internal sealed class SupervisedQuantileOptions
{
    /// <summary>Default number of alternations (f-steps, each followed by a w-step): 10, the authors' R package's default.</summary>
    public const int DefaultAlternations = 10;

    /// <summary>Default L2 regularization λ of the weights: 1e-3 (the objective is the mean loss + λ/2 ‖W‖²).</summary>
    public const double DefaultL2Regularization = 1e-3;

    /// <summary>Alternations: each is one f-step then one w-step; 0 gives quantile normalization to the initial target followed by logistic regression. Default 10.</summary>
    public int Alternations { get; init; } = DefaultAlternations;

    /// <summary>λ ≥ 0 of λ/2 ‖W‖² on the weights (never the biases). Default 1e-3.</summary>
    public double L2Regularization { get; init; } = DefaultL2Regularization;

    /// <summary>
    /// The initial quantile function, one value per slot, non-decreasing, not all equal (it is centred and scaled to
    /// ‖f‖² = n before use). Null (default): the mean of the training rows sorted ascending.
    /// </summary>
    public double[]? InitialTarget { get; init; }

    /// <summary>Most L-BFGS iterations of one w-step. Default 200.</summary>
    public int WeightIterations { get; init; } = 200;

    /// <summary>Most projected-gradient iterations of one f-step. Default 200.</summary>
    public int QuantileIterations { get; init; } = 200;

    /// <summary>
    /// Alternations stop early once one lowers the objective by less than this fraction of its value (and the inner
    /// solvers stop at gradients below it). Default 1e-7.
    /// </summary>
    public double Tolerance { get; init; } = 1e-7;

    /// <summary>Most threads (−1: every core). Results do not depend on it. Default −1.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Checks every setting; the exception's ParamName is the setting.</summary>
    public void Validate(int length)
    {
        Check.AtLeast(Alternations, 0, nameof(Alternations));
        Check.FiniteNonNegative(L2Regularization, nameof(L2Regularization));
        Check.AtLeast(WeightIterations, 1, nameof(WeightIterations));
        Check.AtLeast(QuantileIterations, 1, nameof(QuantileIterations));
        Check.InRange(Tolerance, 0, 1, nameof(Tolerance));
        Check.Parallelism(MaxDegreeOfParallelism, nameof(MaxDegreeOfParallelism));
        if (InitialTarget is { } f)
        {
            if (f.Length != length)
            {
                throw new ArgumentException($"'{nameof(InitialTarget)}' holds {f.Length} values, expected one per slot ({length}).", nameof(InitialTarget));
            }
            for (int k = 0; k < f.Length; k++)
            {
                if (!double.IsFinite(f[k]) || (k > 0 && f[k] < f[k - 1]))
                {
                    throw new ArgumentException($"'{nameof(InitialTarget)}' must be finite and non-decreasing; entry {k} is {f[k]}.", nameof(InitialTarget));
                }
            }
            if (f[^1] == f[0])
            {
                throw new ArgumentException($"'{nameof(InitialTarget)}' is constant ({f[0]}): a constant target normalizes every row to the same values.", nameof(InitialTarget));
            }
        }
    }
}
