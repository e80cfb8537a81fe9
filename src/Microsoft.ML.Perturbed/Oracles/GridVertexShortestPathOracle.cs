using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>The oracle of <see cref="Oracle.GridVertexShortestPath"/>, documented there.</summary>
internal sealed class GridVertexShortestPathOracle : Oracle
{
    private static readonly (int Dr, int Dc)[] Moves = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)];

    /// <summary>Creates the oracle for a <paramref name="rows"/> × <paramref name="columns"/> grid.</summary>
    public GridVertexShortestPathOracle(int rows, int columns)
        : base(Cells(rows, columns), Cells(rows, columns), OptimizationSense.Minimize)
    {
        Rows = rows;
        Columns = columns;
    }

    /// <summary>Grid rows.</summary>
    public int Rows { get; }

    /// <summary>Grid columns.</summary>
    public int Columns { get; }

    /// <inheritdoc/>
    public override string Name => $"GridVertexShortestPath({Rows}×{Columns}, 8 neighbours)";

    /// <inheritdoc/>
    public override LinearLoss LinearTaskLoss => LinearLosses.ZeroOneSquared;

    private static int Cells(int rows, int columns)
    {
        Guard.Positive(rows, nameof(rows));
        Guard.Positive(columns, nameof(columns));
        long cells = (long)rows * columns;
        return cells <= 1 << 26 ? (int)cells : throw new ArgumentOutOfRangeException(nameof(columns), columns, "The grid has more than 2²⁶ cells.");
    }

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> cost, Span<float> solution)
    {
        int n = Dimension;
        for (int i = 0; i < n; i++)
        {
            if (!(cost[i] >= 0))
            {
                throw new ArgumentException($"{Name} needs non-negative vertex costs (Dijkstra), found {cost[i]} at cell {i} (row {i / Columns}, column {i % Columns}). " +
                    "If these are perturbed costs (θ + εZ under additive noise), the noise made them negative: use multiplicative perturbation " +
                    "(PerturbationKind.Multiplicative keeps positive costs positive), a smaller ε, or costs shifted away from 0.", "theta");
            }
        }
        if (t_dist is null || t_dist.Length < n)
        {
            t_dist = new double[n];
            t_prev = new int[n];
            t_done = new bool[n];
        }
        Span<double> dist = t_dist.AsSpan(0, n);
        Span<int> prev = t_prev.AsSpan(0, n);
        Span<bool> done = t_done.AsSpan(0, n);
        dist.Fill(double.PositiveInfinity);
        prev.Fill(-1);
        done.Clear();
        var heap = t_heap ??= new PriorityQueue<int, (double, int)>();
        heap.Clear();
        dist[0] = cost[0];
        heap.Enqueue(0, (dist[0], 0));
        while (heap.TryDequeue(out int cell, out (double Cost, int Index) key))
        {
            if (done[cell] || key.Cost > dist[cell]) continue;
            done[cell] = true;
            if (cell == n - 1) break;
            int r = cell / Columns, c = cell % Columns;
            foreach ((int dr, int dc) in Moves)
            {
                int nr = r + dr, nc = c + dc;
                if (nr < 0 || nr >= Rows || nc < 0 || nc >= Columns) continue;
                int next = nr * Columns + nc;
                if (done[next]) continue;
                double candidate = dist[cell] + cost[next];
                if (candidate < dist[next])
                {
                    dist[next] = candidate;
                    prev[next] = cell;
                    heap.Enqueue(next, (candidate, next));
                }
            }
        }
        solution.Clear();
        for (int cell = n - 1; cell >= 0; cell = prev[cell])
        {
            solution[cell] = 1;
            if (cell == 0) break;
        }
    }

    [ThreadStatic] private static double[]? t_dist;
    [ThreadStatic] private static int[]? t_prev;
    [ThreadStatic] private static bool[]? t_done;
    [ThreadStatic] private static PriorityQueue<int, (double, int)>? t_heap;
}
