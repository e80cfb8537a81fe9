namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// What the gradient a loss returns is, relative to the value it reports at the same draw (<see cref="LossDescriptor.Gradient"/>;
/// the loss contract checks each kind its own way).
/// </summary>
internal enum LossGradientKind
{
    /// <summary>
    /// The derivative of the reported value at a fixed draw (almost everywhere): the Fenchel-Young loss (piecewise linear in θ
    /// for a fixed draw), SPO+ (piecewise linear), the squared loss of the scores.
    /// </summary>
    Exact = 0,

    /// <summary>
    /// A Monte-Carlo estimate of the derivative of the expected value (the score-function VJP of the perturbed optimizer);
    /// the value at a fixed draw is piecewise constant, so its own derivative is 0 almost everywhere.
    /// </summary>
    Estimator = 1,

    /// <summary>
    /// A surrogate direction for a piecewise-constant value (blackbox interpolation, identity with projection, direct loss
    /// minimization): a descent direction towards the target, 0 at a prediction that already gives the target.
    /// </summary>
    Surrogate = 2,
}
