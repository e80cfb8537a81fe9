namespace Microsoft.ML.Perturbed.Losses;

/// <summary>Built-in row losses for <see cref="LayerLoss"/>.</summary>
internal static class RowLosses
{
    /// <summary>½‖ŷ − y‖², cotangent ŷ − y (accumulated in double).</summary>
    public static RowLoss Squared { get; } = (solution, target, cotangent) =>
    {
        double sum = 0;
        for (int i = 0; i < solution.Length; i++)
        {
            double r = (double)solution[i] - target[i];
            cotangent[i] = (float)r;
            sum += r * r;
        }
        return 0.5 * sum;
    };

    /// <summary>
    /// ⟨ŷ, c⟩ with the true costs c as the target: the cost of the decision for a cost head (<see cref="Oracles.OptimizationSense.Minimize"/>),
    /// what decision-focused blackbox and identity training back-propagate (PyEPO's DBB and NID); cotangent c.
    /// </summary>
    public static RowLoss DecisionCost { get; } = (solution, cost, cotangent) =>
    {
        double sum = 0;
        for (int i = 0; i < solution.Length; i++)
        {
            cotangent[i] = cost[i];
            sum += (double)solution[i] * cost[i];
        }
        return sum;
    };

    /// <summary>−⟨ŷ, y⟩ (a linear loss: for permutations of one reference it is ½‖ŷ − y‖² up to a constant), cotangent −y.</summary>
    public static RowLoss NegativeInnerProduct { get; } = (solution, target, cotangent) =>
    {
        double sum = 0;
        for (int i = 0; i < solution.Length; i++)
        {
            cotangent[i] = -target[i];
            sum -= (double)solution[i] * target[i];
        }
        return sum;
    };
}
