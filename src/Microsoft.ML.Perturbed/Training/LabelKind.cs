using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// What a target row holds: a solution of the head (a point of its polytope) or the true costs (scores, for a maximizing
/// head) of the instance. A loss says which it needs (<see cref="LossDescriptor.Targets"/>); an ML.NET decision head says
/// which its label column holds (<c>DecisionHead.Labels</c>) and computes solutions from costs when the loss needs them.
/// The values are written into saved models.
/// </summary>
public enum LabelKind
{
    /// <summary>A solution of the head: a point of its polytope (one-hot, k-hot, ranks, an assignment, a path, a packing).</summary>
    Solution = 0,

    /// <summary>The true costs (or scores) of the instance: SPO+ and regret use them, and the head's solution on them is the target of the other losses.</summary>
    Costs = 1,
}
