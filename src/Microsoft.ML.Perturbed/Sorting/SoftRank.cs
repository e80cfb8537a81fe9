namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Soft ranks by projection onto the permutahedron (Blondel et al. 2020, §5): r_ε(θ) = P(ρ, θ/ε) with
/// ρ = (n, n−1, …, 1). Ranks start at 1; ascending gives the smallest value rank 1. They always sum to n(n+1)/2,
/// tend to the exact ranks as ε → 0 and to the mean rank (n+1)/2 as ε → ∞.
/// </summary>
/// <remarks>
/// With x = sign·θ/ε sorted decreasingly into s (sign = +1 ascending, −1 descending): L2 computes
/// v = PAV-L2(s − ρ) and ranks s − v; KL computes v = PAV-KL(s, log ρ) and ranks exp(s − v); each value goes back to
/// its input's position. Example (ascending, L2): soft ranks of [5, 1, 2] are [3, 1.25, 1.75] at ε = 2 and [3, 1, 2] at ε = 1.
/// </remarks>
public sealed class SoftRank : PermutahedronProjection
{
    /// <summary>Creates the operator for rows of <paramref name="dimension"/> values.</summary>
    /// <param name="dimension">Length n of a row.</param>
    /// <param name="epsilon">Regularization strength ε ≥ 0 (0: exact ranks, ties averaged).</param>
    /// <param name="regularization">L2 (default) or KL.</param>
    /// <param name="direction">Ascending (default: smallest value gets rank 1) or descending.</param>
    public SoftRank(int dimension, double epsilon = 1.0, SoftRegularization regularization = SoftRegularization.L2,
        SortDirection direction = SortDirection.Ascending)
        : base(dimension, epsilon, regularization, direction)
    {
    }

    private protected override void ComputeRow(Workspace w, Mode mode)
    {
        int n = Dimension;
        double sign = Direction == SortDirection.Ascending ? 1 : -1;
        Span<double> s = w.Sorted, p = w.Values;
        int[] order = w.Order;
        if (Epsilon == 0)
        {
            // Limit ε → 0⁺: exact ranks; a run of tied values shares the mean of its ranks. Derivative: zero.
            SortScaled(w, sign);
            for (int a = 0, b; a < n; a = b)
            {
                for (b = a + 1; b < n && s[b] == s[a]; b++) { }
                double rank = n - (a + b - 1) / 2.0;
                for (int k = a; k < b; k++) w.Output[order[k]] = rank;
            }
            w.Derivative.AsSpan().Clear();
            return;
        }

        SortScaled(w, sign / Epsilon);
        if (Regularization == SoftRegularization.L2)
        {
            for (int k = 0; k < n; k++) p[k] = s[k] - (n - k);
            w.Blocks = IsotonicRegression.L2(p, w.Solution, w.Scratch, w.BlockEnds);
            for (int k = 0; k < n; k++) p[k] = s[k] - w.Solution[k];
        }
        else
        {
            for (int k = 0; k < n; k++) p[k] = Math.Log(n - k);
            w.Blocks = IsotonicRegression.KL(s, p, w.Solution, w.Scratch, w.BlockEnds);
            for (int k = 0; k < n; k++) p[k] = Math.Exp(s[k] - w.Solution[k]);
        }
        for (int k = 0; k < n; k++) w.Output[order[k]] = p[k];
        if (mode == Mode.Forward)
        {
            return;
        }

        // Within a PAV block B, ∂p/∂s = I − (1/|B|)·11ᵀ (L2) or diag(p)(I − 1·softmax(s_B)ᵀ) (KL); ∂s/∂θ = sign/ε.
        double c = sign / Epsilon;
        double[] g = w.Direction, softmax = w.Scratch;
        for (int b = 0, a = 0; b < w.Blocks; a = w.BlockEnds[b], b++)
        {
            int end = w.BlockEnds[b];
            if (Regularization == SoftRegularization.L2)
            {
                double mean = 0;
                for (int k = a; k < end; k++) mean += g[order[k]];
                mean /= end - a;
                for (int k = a; k < end; k++) w.Derivative[order[k]] = c * (g[order[k]] - mean);
            }
            else
            {
                BlockSoftmax(s, a, end, softmax);
                double sum = 0;
                if (mode == Mode.Vjp)
                {
                    for (int k = a; k < end; k++) sum += g[order[k]] * p[k];   // u = g ⊙ r
                    for (int k = a; k < end; k++) w.Derivative[order[k]] = c * (g[order[k]] * p[k] - softmax[k] * sum);
                }
                else
                {
                    for (int k = a; k < end; k++) sum += softmax[k] * g[order[k]];
                    for (int k = a; k < end; k++) w.Derivative[order[k]] = c * p[k] * (g[order[k]] - sum);
                }
            }
        }
    }
}
