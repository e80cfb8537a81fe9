using System.Numerics.Tensors;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// The cost of moving squashed inputs onto the targets, Cᵢⱼ = (yⱼ − x̃ᵢ)², and its reverse mode C̄ → x̃̄.
/// </summary>
internal static class TransportCost
{
    /// <summary><c>w.Squashed</c> → <c>w.Cost</c> (n × m, row-major) against the grid y.</summary>
    public static void Fill(SinkhornWorkspace w, ReadOnlySpan<double> grid)
    {
        double[] xt = w.Squashed;
        int n = xt.Length, m = grid.Length;
        for (int i = 0; i < n; i++)
        {
            Span<double> row = w.Cost.AsSpan(i * m, m);
            if (m >= GibbsKernel.VectorMinimum)
            {
                TensorPrimitives.Subtract(grid, xt[i], row);
                TensorPrimitives.Multiply(row, row, row);
                continue;
            }
            for (int j = 0; j < m; j++)
            {
                double d = grid[j] - xt[i];
                row[j] = d * d;
            }
        }
    }

    /// <summary>
    /// <c>w.PlanBar</c> (holding C̄) → <c>w.SquashedBar</c>: x̃̄ᵢ = Σⱼ C̄ᵢⱼ·(−2)(yⱼ − x̃ᵢ) = −2(⟨C̄ᵢ, y⟩ − x̃ᵢ Σⱼ C̄ᵢⱼ).
    /// </summary>
    public static void Backward(SinkhornWorkspace w, ReadOnlySpan<double> grid)
    {
        int n = w.Squashed.Length, m = grid.Length;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> row = w.PlanBar.AsSpan(i * m, m);
            w.SquashedBar[i] = -2 * (SpanMath.Dot(row, grid) - w.Squashed[i] * SpanMath.Sum(row));
        }
    }
}
