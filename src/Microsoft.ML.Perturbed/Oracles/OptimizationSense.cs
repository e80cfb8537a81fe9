namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>Whether an oracle maximizes ⟨y, θ⟩ over its solutions (scores) or minimizes ⟨y, c⟩ (costs).</summary>
public enum OptimizationSense
{
    /// <summary>y*(θ) = argmax ⟨y, θ⟩: classes, top-k, rankings, assignments, knapsack values.</summary>
    Maximize = 0,

    /// <summary>y*(c) = argmin ⟨y, c⟩: shortest paths on edge or vertex costs.</summary>
    Minimize = 1,
}
