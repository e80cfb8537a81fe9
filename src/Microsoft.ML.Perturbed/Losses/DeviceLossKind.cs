namespace Microsoft.ML.Perturbed.Losses;

/// <summary>The losses a device backend (the TorchSharp one) implements on the device (<see cref="DeviceLossForm"/>).</summary>
internal enum DeviceLossKind
{
    /// <summary>The perturbed Fenchel-Young loss of <see cref="DeviceLossForm.Optimizer"/>: gradient ŷ_ε(θ) − y.</summary>
    FenchelYoung = 0,

    /// <summary>½‖ŷ_ε(θ) − y‖² through the score-function VJP of <see cref="DeviceLossForm.Optimizer"/>.</summary>
    PerturbedSquared = 1,

    /// <summary>½‖θ − y‖² on the scores themselves.</summary>
    SquaredScores = 2,
}
