using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// Best path on a grid DAG from the top-left cell to the bottom-right cell. A row of scores holds one score per
/// cell (row-major, rows × columns); y*(θ) is the 0/1 indicator of the cells on the path of maximum total score.
/// For costs c (shortest path) pass θ = −c. Dynamic programming in topological order, O(rows·columns).
/// Ties prefer the move from above, then from the left, then the diagonal.
/// </summary>
internal sealed class GridScorePathOracle : Oracle
{
    /// <summary>Creates the oracle for a <paramref name="rows"/> × <paramref name="columns"/> grid.</summary>
    public GridScorePathOracle(int rows, int columns, GridMoves moves = GridMoves.RightDownDiagonal)
        : base(CheckedCells(rows, columns), CheckedCells(rows, columns))
    {
        if (!Enum.IsDefined(moves))
        {
            throw new ArgumentOutOfRangeException(nameof(moves), moves, "Unknown grid moves.");
        }
        Rows = rows;
        Columns = columns;
        Moves = moves;
    }

    /// <summary>Number of grid rows.</summary>
    public int Rows { get; }

    /// <summary>Number of grid columns.</summary>
    public int Columns { get; }

    /// <summary>Moves allowed between cells.</summary>
    public GridMoves Moves { get; }

    /// <inheritdoc/>
    public override string Name => $"GridShortestPath({Rows}×{Columns}, {Moves})";

    /// <inheritdoc/>
    public override LinearLoss LinearTaskLoss => LinearLosses.ZeroOneSquared;

    private static int CheckedCells(int rows, int columns)
    {
        Guard.Positive(rows, nameof(rows));
        Guard.Positive(columns, nameof(columns));
        long cells = (long)rows * columns;
        if (cells > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), columns, "The grid has more than Int32.MaxValue cells.");
        }
        return (int)cells;
    }

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> theta, Span<float> solution)
    {
        int rows = Rows, cols = Columns;
        EnsureScratch(theta.Length);
        Span<double> best = t_best.AsSpan(0, theta.Length);
        Span<byte> from = t_from.AsSpan(0, theta.Length);
        bool diagonal = Moves == GridMoves.RightDownDiagonal;
        // best[c] = θ[c] + max over predecessors; from[c] remembers which one (0 above, 1 left, 2 diagonal).
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                int c = i * cols + j;
                double prev = c == 0 ? 0.0 : double.NegativeInfinity;
                byte move = 0;
                if (i > 0) prev = best[c - cols];
                if (j > 0 && best[c - 1] > prev) { prev = best[c - 1]; move = 1; }
                if (diagonal && i > 0 && j > 0 && best[c - cols - 1] > prev) { prev = best[c - cols - 1]; move = 2; }
                best[c] = theta[c] + prev;
                from[c] = move;
            }
        }
        solution.Clear();
        int r = rows - 1, q = cols - 1;
        while (true)
        {
            int c = r * cols + q;
            solution[c] = 1f;
            if (c == 0)
            {
                break;
            }
            switch (from[c])
            {
                case 0: r--; break;
                case 1: q--; break;
                case 2: r--; q--; break;
                default: throw new InvalidOperationException($"Unknown move {from[c]} at cell {c}.");
            }
        }
    }

    [ThreadStatic] private static double[]? t_best;
    [ThreadStatic] private static byte[]? t_from;

    private static void EnsureScratch(int length)
    {
        if (t_best is null || t_best.Length < length)
        {
            t_best = new double[length];
            t_from = new byte[length];
        }
    }
}
