namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// The loss of the solution ŷ that the blackbox, identity and I-MLE losses back-propagate through their surrogate gradients.
/// For solutions of fixed norm — permutations of one reference (ranking), 0/1 vectors with a fixed number of ones
/// (argmax, top-k, assignments) — both are the same function on the solutions up to a constant, ½‖ŷ − y‖² = c − ⟨ŷ, y⟩;
/// they differ in the upstream gradient they hand the surrogate: ŷ − y or −y.
/// </summary>
public enum TaskLoss
{
    /// <summary>½‖ŷ − y‖², upstream gradient ŷ − y.</summary>
    Squared = 0,

    /// <summary>−⟨ŷ, y⟩, upstream gradient −y: blackbox interpolation then solves at θ + λy, a nearby solution closer to the target.</summary>
    Linear = 1,
}
