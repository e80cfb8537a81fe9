using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>The oracle of <see cref="Oracle.ShortestPath"/>, documented there.</summary>
internal sealed class DagShortestPathOracle : Oracle
{
    private readonly int[] _from, _to, _order;       // edges; nodes in topological order
    private readonly int[][] _incoming;              // edge indices into each node, ascending
    private readonly int _nodes;

    /// <summary>Creates the oracle.</summary>
    /// <param name="nodes">Number of nodes V.</param>
    /// <param name="edges">The edges (from, to), each node in [0, V); the graph must be acyclic.</param>
    /// <param name="source">The source node.</param>
    /// <param name="sink">The sink node, reachable from the source.</param>
    /// <exception cref="ArgumentException">A node is out of range, the graph has a cycle, or the sink cannot be reached.</exception>
    public DagShortestPathOracle(int nodes, IReadOnlyList<(int From, int To)> edges, int source, int sink)
        : base(Guard.NonEmpty(edges, nameof(edges), "edge"), edges.Count, OptimizationSense.Minimize)
    {
        Guard.Positive(nodes, nameof(nodes));
        if (source < 0 || source >= nodes) throw new ArgumentOutOfRangeException(nameof(source), source, $"'{nameof(source)}' must be a node in [0, {nodes}).");
        if (sink < 0 || sink >= nodes || sink == source) throw new ArgumentOutOfRangeException(nameof(sink), sink, $"'{nameof(sink)}' must be a node in [0, {nodes}) other than the source.");
        _nodes = nodes;
        _from = new int[edges.Count];
        _to = new int[edges.Count];
        var incoming = Enumerable.Range(0, nodes).Select(_ => new List<int>()).ToArray();
        var outDegree = new int[nodes];
        for (int e = 0; e < edges.Count; e++)
        {
            (int f, int t) = edges[e];
            if (f < 0 || f >= nodes || t < 0 || t >= nodes || f == t)
            {
                throw new ArgumentException($"Edge {e} ({f} → {t}) must join two different nodes in [0, {nodes}).", nameof(edges));
            }
            _from[e] = f;
            _to[e] = t;
            incoming[t].Add(e);
            outDegree[f]++;
        }
        _incoming = incoming.Select(l => l.ToArray()).ToArray();
        // Kahn's algorithm, smallest node first: a deterministic topological order.
        var inDegree = _incoming.Select(l => l.Length).ToArray();
        var outgoing = Enumerable.Range(0, nodes).Select(_ => new List<int>()).ToArray();
        for (int e = 0; e < edges.Count; e++) outgoing[_from[e]].Add(e);
        var ready = new PriorityQueue<int, int>();
        for (int v = 0; v < nodes; v++) if (inDegree[v] == 0) ready.Enqueue(v, v);
        var order = new List<int>(nodes);
        while (ready.TryDequeue(out int v, out _))
        {
            order.Add(v);
            foreach (int e in outgoing[v]) if (--inDegree[_to[e]] == 0) ready.Enqueue(_to[e], _to[e]);
        }
        if (order.Count != nodes) throw new ArgumentException("The graph has a cycle; the oracle needs a directed acyclic graph.", nameof(edges));
        _order = order.ToArray();
        // The sink must be reachable from the source.
        var reach = new bool[nodes];
        reach[source] = true;
        foreach (int v in _order) if (reach[v]) foreach (int e in outgoing[v]) reach[_to[e]] = true;
        if (!reach[sink]) throw new ArgumentException($"The sink {sink} cannot be reached from the source {source}.", nameof(sink));
        Source = source;
        Sink = sink;
    }

    /// <summary>
    /// PyEPO's shortest-path grid (Tang &amp; Khalil): <paramref name="rows"/> × <paramref name="columns"/> nodes, arcs east and
    /// south only, ordered row by row — the row's east arcs (v, v + 1), then its south arcs (v, v + columns) — from node 0 to
    /// the last node. The 5 × 5 grid has 40 arcs.
    /// </summary>
    public static DagShortestPathOracle Grid(int rows, int columns)
    {
        Guard.Positive(rows, nameof(rows));
        Guard.Positive(columns, nameof(columns));
        long nodes = (long)rows * columns;   // in 64 bits: 46,341² already overflows an int
        if (nodes > MaxGridNodes)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A grid of {rows} × {columns} = {nodes} nodes exceeds the {MaxGridNodes} nodes (2²⁶) this oracle takes.");
        }
        if (nodes < 2) throw new ArgumentOutOfRangeException(nameof(columns), columns, $"A grid path needs at least two nodes; {rows} × {columns} has {nodes}.");
        var edges = new List<(int, int)>();
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c + 1 < columns; c++) edges.Add((r * columns + c, r * columns + c + 1));
            if (r + 1 < rows) for (int c = 0; c < columns; c++) edges.Add((r * columns + c, (r + 1) * columns + c));
        }
        return new DagShortestPathOracle(rows * columns, edges, 0, rows * columns - 1);
    }

    /// <summary>The most nodes <see cref="Grid"/> builds (2²⁶).</summary>
    public const int MaxGridNodes = 1 << 26;

    /// <summary>The source node.</summary>
    public int Source { get; }

    /// <summary>The sink node.</summary>
    public int Sink { get; }

    /// <summary>Number of nodes.</summary>
    public int Nodes => _nodes;

    /// <summary>Edge <paramref name="e"/> as (from, to).</summary>
    public (int From, int To) Edge(int e) => (_from[e], _to[e]);

    /// <inheritdoc/>
    public override string Name => $"DagShortestPath(V={_nodes}, E={Dimension})";

    /// <inheritdoc/>
    public override LinearLoss LinearTaskLoss => LinearLosses.ZeroOneSquared;

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> cost, Span<float> solution)
    {
        int v = _nodes;
        if (t_best is null || t_best.Length < v)
        {
            t_best = new double[v];
            t_via = new int[v];
        }
        Span<double> best = t_best.AsSpan(0, v);
        Span<int> via = t_via.AsSpan(0, v);
        best.Fill(double.PositiveInfinity);
        via.Fill(-1);
        best[Source] = 0;
        foreach (int node in _order)
        {
            if (node == Source) continue;
            foreach (int e in _incoming[node])
            {
                double candidate = best[_from[e]] + cost[e];
                if (candidate < best[node])
                {
                    best[node] = candidate;
                    via[node] = e;
                }
            }
        }
        solution.Clear();
        for (int node = Sink; node != Source;)
        {
            int e = via[node];
            solution[e] = 1;
            node = _from[e];
        }
    }

    [ThreadStatic] private static double[]? t_best;
    [ThreadStatic] private static int[]? t_via;
}
