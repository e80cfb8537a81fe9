using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// Shortest path on a directed acyclic graph with edge costs (<see cref="DagShortestPathOracle"/>; PyEPO's grid with
/// <see cref="DagShortestPathOracle.Grid"/>): scores are the predicted edge costs, labels the optimal path's edge
/// indicators or the true edge costs.
/// </summary>
public sealed class ShortestPathHead : DecisionHead
{
    private readonly DagShortestPathOracle _graph;

    /// <summary>Creates the head over <paramref name="graph"/>.</summary>
    /// <param name="graph">The graph, source and sink.</param>
    /// <param name="labels">Whether labels are paths (default) or true costs (needed by SPO+ and regret).</param>
    public ShortestPathHead(DagShortestPathOracle graph, LabelKind labels = LabelKind.Solution) : this(graph, labels, 0)
    {
    }

    private ShortestPathHead(DagShortestPathOracle graph, LabelKind labels, int dimension) : base(dimension, labels)
    {
        _graph = graph ?? throw new ArgumentNullException(nameof(graph));
    }

    /// <summary>The graph.</summary>
    public DagShortestPathOracle Graph => _graph;

    /// <inheritdoc/>
    public override string Name => "ShortestPath";

    private protected override int DimensionFor(int size, string column) => size == _graph.Dimension ? size
        : throw new ArgumentOutOfRangeException("label", $"Schema mismatch for label column '{column}': expected Vector<Single, {_graph.Dimension}> (one value per edge), got Vector<Single, {size}>");

    private protected override DecisionHead WithDimension(int dimension) => new ShortestPathHead(_graph, Labels, dimension);

    /// <inheritdoc/>
    public override Oracle CreateOracle() => _graph;

    private protected override string OnnxDownstream => "the shortest path over the DAG's edges with costs θ (DagShortestPathOracle in .NET; a dynamic program in topological order elsewhere)";

    private protected override void CheckSolution(ReadOnlySpan<float> label, string column, long row)
    {
        RequireZeroOne(label, column, row);
        // A source → sink path: one unit leaves the source, one enters the sink, flow is conserved elsewhere.
        Span<int> balance = _graph.Nodes <= 1024 ? stackalloc int[_graph.Nodes] : new int[_graph.Nodes];
        for (int e = 0; e < label.Length; e++)
        {
            if (label[e] == 0) continue;
            (int from, int to) = _graph.Edge(e);
            balance[from]++;
            balance[to]--;
        }
        for (int v = 0; v < balance.Length; v++)
        {
            int expected = v == _graph.Source ? 1 : v == _graph.Sink ? -1 : 0;
            if (balance[v] != expected)
            {
                throw new InvalidOperationException($"Column '{column}' row {row} is not a path from node {_graph.Source} to node {_graph.Sink}: node {v} has a flow imbalance of {balance[v]}.");
            }
        }
    }

    // *** Binary format ***: int label kind; int nodes; int edges; (int from, int to) per edge; int source; int sink.
    /// <inheritdoc/>
    protected internal override void Write(BinaryWriter writer)
    {
        WriteLabels(writer);
        writer.Write(_graph.Nodes);
        writer.Write(_graph.Dimension);
        for (int e = 0; e < _graph.Dimension; e++)
        {
            writer.Write(_graph.Edge(e).From);
            writer.Write(_graph.Edge(e).To);
        }
        writer.Write(_graph.Source);
        writer.Write(_graph.Sink);
    }

    internal static ShortestPathHead Read(BinaryReader reader)
    {
        LabelKind labels = ReadLabels(reader);
        int nodes = reader.ReadInt32(), edges = reader.ReadInt32();
        if (nodes < 2 || edges < 1 || edges > 10_000_000) throw new FormatException($"The saved shortest-path head claims {nodes} nodes and {edges} edges.");
        var list = new (int, int)[edges];
        for (int e = 0; e < edges; e++) list[e] = (reader.ReadInt32(), reader.ReadInt32());
        var graph = new DagShortestPathOracle(nodes, list, reader.ReadInt32(), reader.ReadInt32());
        return new ShortestPathHead(graph, labels, edges);
    }
}

/// <summary>
/// Shortest path on a grid with vertex costs and 8-neighbour moves (<see cref="GridVertexShortestPathOracle"/>, the
/// Warcraft setting): scores are predicted cell costs, labels the optimal path's cells or the true (non-negative) costs.
/// Dijkstra needs non-negative costs, so the head's oracle reads a negative predicted or perturbed cost as 0 (the
/// model cannot gain by predicting below zero); use multiplicative perturbation to keep perturbed costs positive.
/// </summary>
public sealed class GridPathHead : DecisionHead
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

    private protected override int DimensionFor(int size, string column) => size == (long)Rows * Columns ? size
        : throw new ArgumentOutOfRangeException("label", $"Schema mismatch for label column '{column}': expected Vector<Single, {(long)Rows * Columns}> (one value per cell of the {Rows}×{Columns} grid), got Vector<Single, {size}>");

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
    protected internal override void Write(BinaryWriter writer)
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

/// <summary>0/1 knapsack (<see cref="KnapsackOracle"/>): scores are predicted item values, labels the optimal packing or the true values.</summary>
public sealed class KnapsackHead : DecisionHead
{
    private readonly int[] _weights;

    /// <summary>Creates the head.</summary>
    /// <param name="weights">Item weights (non-negative integers).</param>
    /// <param name="capacity">Capacity.</param>
    /// <param name="labels">Whether labels are packings (default) or true item values.</param>
    public KnapsackHead(IReadOnlyList<int> weights, int capacity, LabelKind labels = LabelKind.Solution) : this(weights, capacity, labels, 0)
    {
    }

    private KnapsackHead(IReadOnlyList<int> weights, int capacity, LabelKind labels, int dimension) : base(dimension, labels)
    {
        Oracle = new KnapsackOracle(weights, capacity);   // checks the weights and the capacity
        _weights = weights.ToArray();
        Capacity = capacity;
    }

    /// <summary>The oracle.</summary>
    public KnapsackOracle Oracle { get; }

    /// <summary>The capacity.</summary>
    public int Capacity { get; }

    /// <inheritdoc/>
    public override string Name => "Knapsack";

    private protected override string OnnxDownstream => "the 0/1 knapsack with item values θ and the head's weights and capacity (KnapsackOracle in .NET; a dynamic program over integer weights elsewhere)";

    private protected override int DimensionFor(int size, string column) => size == _weights.Length ? size
        : throw new ArgumentOutOfRangeException("label", $"Schema mismatch for label column '{column}': expected Vector<Single, {_weights.Length}> (one value per item), got Vector<Single, {size}>");

    private protected override DecisionHead WithDimension(int dimension) => new KnapsackHead(_weights, Capacity, Labels, dimension);

    /// <inheritdoc/>
    public override Oracles.Oracle CreateOracle() => Oracle;

    private protected override void CheckSolution(ReadOnlySpan<float> label, string column, long row)
    {
        RequireZeroOne(label, column, row);
        long weight = 0;
        for (int i = 0; i < label.Length; i++) if (label[i] == 1) weight += _weights[i];
        if (weight > Capacity) throw new InvalidOperationException($"Column '{column}' row {row} packs weight {weight}, above the capacity {Capacity}.");
    }

    // *** Binary format ***: int label kind; int n; n weights; int capacity.
    /// <inheritdoc/>
    protected internal override void Write(BinaryWriter writer)
    {
        WriteLabels(writer);
        writer.Write(_weights.Length);
        foreach (int w in _weights) writer.Write(w);
        writer.Write(Capacity);
    }

    internal static KnapsackHead Read(BinaryReader reader)
    {
        LabelKind labels = ReadLabels(reader);
        int n = reader.ReadInt32();
        if (n < 1 || n > 10_000_000) throw new FormatException($"The saved knapsack head claims {n} items.");
        var weights = new int[n];
        for (int i = 0; i < n; i++) weights[i] = reader.ReadInt32();
        return new KnapsackHead(weights, reader.ReadInt32(), labels, n);
    }
}

/// <summary>
/// A head over a user's own solver: <paramref name="createOracle"/> builds the oracle for the label's slot count (the
/// solutions must live in the space of the scores). Register it with <see cref="PerturbedHeads.RegisterOracle"/> under its
/// name, in every process that loads its models.
/// </summary>
/// <param name="name">The registry name.</param>
/// <param name="createOracle">Builds the oracle for d scores.</param>
/// <param name="labels">Whether labels are solutions (default) or true costs/scores.</param>
public sealed class OracleHead(string name, Func<int, Oracle> createOracle, LabelKind labels = LabelKind.Solution) : DecisionHead(0, labels)
{
    private readonly Func<int, Oracle> _create = createOracle ?? throw new ArgumentNullException(nameof(createOracle));

    /// <inheritdoc/>
    public override string Name { get; } = string.IsNullOrWhiteSpace(name) ? throw new ArgumentException("A head needs a name.", nameof(name)) : name;

    private protected override int DimensionFor(int size, string column)
    {
        Oracle oracle = _create(size) ?? throw new InvalidOperationException($"The oracle factory of head '{Name}' returned null.");
        if (oracle.Dimension != size || oracle.OutputDimension != size)
        {
            throw new ArgumentOutOfRangeException("label", $"Head '{Name}': the oracle for {size} slots maps {oracle.Dimension} scores to {oracle.OutputDimension} values; a head's label, scores and solutions share one size.");
        }
        return size;
    }

    private protected override DecisionHead WithDimension(int dimension) => new BoundOracleHead(Name, _create, Labels, dimension);

    /// <inheritdoc/>
    public override Oracle CreateOracle() => throw new InvalidOperationException($"Head '{Name}' is not bound to a label column.");

    private protected override string OnnxDownstream => $"the user oracle '{Name}'";

    /// <inheritdoc/>
    protected internal override void Write(BinaryWriter writer) => throw new InvalidOperationException($"Head '{Name}' is not bound to a label column.");

    /// <summary>The bound form of an <see cref="OracleHead"/>.</summary>
    internal sealed class BoundOracleHead(string name, Func<int, Oracle> create, LabelKind labels, int dimension) : DecisionHead(dimension, labels)
    {
        public override string Name => name;

        private protected override int DimensionFor(int size, string column) => size == Dimension ? size
            : throw new ArgumentOutOfRangeException("label", $"Schema mismatch for label column '{column}': expected Vector<Single, {Dimension}>, got Vector<Single, {size}>");

        private protected override DecisionHead WithDimension(int d) => new BoundOracleHead(name, create, Labels, d);

        public override Oracle CreateOracle() => create(Dimension);

        private protected override string OnnxDownstream => $"the user oracle '{name}'";

        // *** Binary format ***: int label kind; int d.
        protected internal override void Write(BinaryWriter writer)
        {
            WriteLabels(writer);
            writer.Write(Dimension);
        }

        internal static BoundOracleHead Read(string name, Func<int, Oracle> create, BinaryReader reader)
        {
            LabelKind labels = ReadLabels(reader);
            int d = reader.ReadInt32();
            if (d < 1) throw new FormatException($"The saved head '{name}' claims {d} scores.");
            return new BoundOracleHead(name, create, labels, d);
        }
    }
}
