using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>Task losses linear in ŷ for the built-in heads (what direct loss minimization needs for one extra solve).</summary>
internal static class LinearLosses
{
    /// <summary>
    /// ½‖ŷ − y‖² for 0/1 solutions (one-hot, k-hot, assignments, paths), where ŷᵢ² = ŷᵢ: t = ½ − y, c = ½Σy (half the
    /// Hamming distance).
    /// </summary>
    public static LinearLoss ZeroOneSquared { get; } = (target, t) =>
    {
        double c = 0;
        for (int i = 0; i < target.Length; i++)
        {
            t[i] = 0.5f - target[i];
            c += 0.5 * target[i];
        }
        return c;
    };

    /// <summary>½‖ŷ − y‖² for permutations of one reference vector (rankings), where ‖ŷ‖ = ‖y‖: t = −y, c = ‖y‖².</summary>
    public static LinearLoss PermutationSquared { get; } = (target, t) =>
    {
        double c = 0;
        for (int i = 0; i < target.Length; i++)
        {
            t[i] = -target[i];
            c += (double)target[i] * target[i];
        }
        return c;
    };

    /// <summary>The squared loss of a head in linear form, as the head declares it (<see cref="Oracle.LinearTaskLoss"/>).</summary>
    /// <exception cref="NotSupportedException">The head declares none (a user's oracle).</exception>
    public static LinearLoss For(Oracle head)
    {
        ArgumentNullException.ThrowIfNull(head);
        return head.LinearTaskLoss
            ?? throw new NotSupportedException($"No built-in linear task loss for {head.Name}; pass a LinearLoss to DirectLossMinimization, or override Oracle.LinearTaskLoss.");
    }
}
