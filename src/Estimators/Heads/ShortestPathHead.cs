using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// Shortest path on a directed acyclic graph with edge costs (<see cref="Oracle.ShortestPath"/>; PyEPO's grid with
/// <see cref="Oracle.GridShortestPath"/>): scores are the predicted edge costs, labels the optimal path's edge
/// indicators or the true edge costs.
/// </summary>
internal sealed class ShortestPathHead : DecisionHead
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

    private protected override int DimensionFor(int size, string column) => RequireLabelSize(size, _graph.Dimension, column, " (one value per edge)");

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
    internal override void Write(BinaryWriter writer)
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
