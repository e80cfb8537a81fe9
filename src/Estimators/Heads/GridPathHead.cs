using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// Shortest path on a grid with vertex costs and 8-neighbour moves (<see cref="Oracle.GridVertexShortestPath"/>, the
/// Warcraft setting): scores are predicted cell costs, labels the optimal path's cells or the true (non-negative) costs.
/// Dijkstra needs non-negative costs, so the head's oracle reads a negative predicted or perturbed cost as 0 (the
/// model cannot gain by predicting below zero); use multiplicative perturbation to keep perturbed costs positive.
/// </summary>
internal sealed class GridPathHead : DecisionHead
{
    /// <summary>Creates the head for a <paramref name="rows"/> × <paramref name="columns"/> grid.</summary>
    public GridPathHead(int rows, int columns, LabelKind labels = LabelKind.Solution) : this(rows, columns, labels, 0)
    {
    }

    private GridPathHead(int rows, int columns, LabelKind labels, int dimension) : base(dimension, labels)
    {
        if (rows < 1 || columns < 1 || (long)rows * columns < 2) throw new ArgumentOutOfRangeException(nameof(columns), columns, "The grid needs at least two cells.");
        Rows = rows;
        Columns = columns;
    }

    /// <summary>Grid rows.</summary>
    public int Rows { get; }

    /// <summary>Grid columns.</summary>
    public int Columns { get; }

    /// <inheritdoc/>
    public override string Name => "GridPath";

    private protected override int DimensionFor(int size, string column) => RequireLabelSize(size, (long)Rows * Columns, column, $" (one value per cell of the {Rows}×{Columns} grid)");

    private protected override DecisionHead WithDimension(int dimension) => new GridPathHead(Rows, Columns, Labels, dimension);

    /// <inheritdoc/>
    public override Oracle CreateOracle() => new NonNegativeCosts(new GridVertexShortestPathOracle(Rows, Columns));

    private protected override string OnnxDownstream => "the 8-neighbour shortest path over the grid's vertex costs θ, costs below 0 read as 0 (GridVertexShortestPathOracle in .NET; Dijkstra elsewhere)";

    /// <summary>The grid oracle on max(c, 0).</summary>
    private sealed class NonNegativeCosts(GridVertexShortestPathOracle inner) : Oracle(inner.Dimension, inner.OutputDimension, OptimizationSense.Minimize)
    {
        [ThreadStatic] private static float[]? t_clamped;

        public override string Name => $"{inner.Name}, costs below 0 read as 0";

        protected internal override void SolveRow(ReadOnlySpan<float> cost, Span<float> solution)
        {
            float[] clamped = t_clamped is { } buffer && buffer.Length == cost.Length ? buffer : t_clamped = new float[cost.Length];
            for (int i = 0; i < cost.Length; i++) clamped[i] = Math.Max(0f, cost[i]);
            inner.Solve(clamped, solution, maxDegreeOfParallelism: 1);
        }
    }

    private protected override void CheckCosts(ReadOnlySpan<float> label, string column, long row)
    {
        for (int i = 0; i < label.Length; i++)
        {
            if (label[i] < 0) throw new InvalidOperationException($"Column '{column}' row {row} slot {i} holds the cost {label[i]}; grid costs must be ≥ 0.");
        }
    }

    private protected override void CheckSolution(ReadOnlySpan<float> label, string column, long row)
    {
        RequireZeroOne(label, column, row);
        if (label[0] != 1 || label[^1] != 1)
        {
            throw new InvalidOperationException($"Column '{column}' row {row} is not a path: it must contain the first and the last cell.");
        }
    }

    // *** Binary format ***: int label kind; int rows; int columns.
    /// <inheritdoc/>
    internal override void Write(BinaryWriter writer)
    {
        WriteLabels(writer);
        writer.Write(Rows);
        writer.Write(Columns);
    }

    internal static GridPathHead Read(BinaryReader reader)
    {
        LabelKind labels = ReadLabels(reader);
        int rows = reader.ReadInt32(), columns = reader.ReadInt32();
        if (rows < 1 || columns < 1 || (long)rows * columns > 1 << 26) throw new FormatException($"The saved grid head claims {rows}×{columns} cells.");
        return new GridPathHead(rows, columns, labels, rows * columns);
    }
}
