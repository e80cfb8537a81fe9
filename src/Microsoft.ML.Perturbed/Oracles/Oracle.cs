using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// A linear optimization oracle over a set C (a polytope's vertices: one-hot vectors, k-subsets, permutations,
/// assignments, paths, knapsack packings): y*(θ) = argmax_{y∈C} ⟨y, θ⟩ for a maximizing head (<see cref="Sense"/> =
/// <see cref="OptimizationSense.Maximize"/>, the default) or argmin_{y∈C} ⟨y, c⟩ for a cost head (shortest paths), whose
/// inputs are the costs themselves — so that multiplicative perturbation applies to positive costs. Batched: inputs
/// are a row-major <c>[batch × Dimension]</c> buffer and solutions a <c>[batch × OutputDimension]</c> buffer. The layers and
/// losses read <see cref="Sense"/> once (docs/architecture.md, "Conventions").
/// </summary>
/// <remarks>
/// Implementations must be thread-safe (rows are solved concurrently) and deterministic, breaking ties by a
/// documented rule. Derive from this class, or wrap a delegate with <see cref="Create"/>, to plug in your own solver.
/// </remarks>
public abstract class Oracle
{
    /// <summary>Creates an oracle over <paramref name="dimension"/> scores with <paramref name="outputDimension"/>-long solutions.</summary>
    protected Oracle(int dimension, int outputDimension) : this(dimension, outputDimension, OptimizationSense.Maximize)
    {
    }

    /// <summary>Creates an oracle that maximizes or minimizes (<paramref name="sense"/>).</summary>
    protected Oracle(int dimension, int outputDimension, OptimizationSense sense)
    {
        Guard.Positive(dimension, nameof(dimension));
        Guard.Positive(outputDimension, nameof(outputDimension));
        if (!Enum.IsDefined(sense)) throw new ArgumentOutOfRangeException(nameof(sense), sense, "Unknown optimization sense.");
        Dimension = dimension;
        OutputDimension = outputDimension;
        Sense = sense;
    }

    /// <summary>Whether the oracle maximizes scores (default) or minimizes costs.</summary>
    public OptimizationSense Sense { get; }

    /// <summary>+1 for a maximizing oracle, −1 for a minimizing one: the factor the sign-dependent formulas take.</summary>
    public int Sign => Sense == OptimizationSense.Maximize ? 1 : -1;

    /// <summary>Length d of one row of scores θ.</summary>
    public int Dimension { get; }

    /// <summary>Length d′ of one solution y (d for argmax, top-k, ranking and paths; n² for an n×n matching).</summary>
    public int OutputDimension { get; }

    /// <summary>A short description, such as <c>TopK(k=10, d=100)</c>.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The squared loss ½‖ŷ − y‖² of this head's solutions written linearly in ŷ (what direct loss minimization needs for
    /// its one extra solve; <see cref="LinearLosses"/>): <see cref="LinearLosses.ZeroOneSquared"/> for 0/1 solutions,
    /// <see cref="LinearLosses.PermutationSquared"/> for permutations of one reference. Default null: not known (a user's
    /// oracle), so direct loss minimization must be given one; a head whose solutions have either form overrides it.
    /// </summary>
    public virtual LinearLoss? LinearTaskLoss => null;

    /// <summary>
    /// The batched kernel a device backend may run in place of this oracle (the same solutions, ties included), or null
    /// (default): the backend solves on the host with this oracle. Internal, so that only a head of this library can claim one.
    /// </summary>
    internal virtual DeviceKernel? DeviceKernel => null;

    /// <summary>
    /// Whether the solutions are the vertices of the unit simplex (one-hot vectors) and the oracle maximizes over them: then
    /// under standard Gumbel noise ŷ_ε(θ) = softmax(θ/ε) and F_ε(θ) = ε·logsumexp(θ/ε) + εγ in closed form, which the
    /// Fenchel-Young loss uses. Internal, so that only a head of this library can claim it. Default false.
    /// </summary>
    internal virtual bool IsUnitSimplex => false;

    /// <summary>
    /// Wraps a user solver. It must be thread-safe and deterministic. The solution buffer it receives is cleared to 0 before
    /// every call, so slots it does not write are 0 (never a value left from another row or sample).
    /// </summary>
    /// <param name="dimension">Length of a row of scores.</param>
    /// <param name="outputDimension">Length of a solution.</param>
    /// <param name="solve">Writes argmax_{y∈C} ⟨y, θ⟩ for one row (slots it leaves alone are 0).</param>
    /// <param name="name">Name used in messages.</param>
    /// <param name="sense">Whether the solver maximizes scores (default) or minimizes costs.</param>
    public static Oracle Create(int dimension, int outputDimension, OracleFunction solve, string name = "UserOracle", OptimizationSense sense = OptimizationSense.Maximize)
    {
        ArgumentNullException.ThrowIfNull(solve);
        return new DelegateOracle(dimension, outputDimension, solve, name, sense);
    }

    /// <summary>
    /// Argmax over the probability simplex: y*(θ) is the one-hot vector of the largest score. Ties go to the lowest index.
    /// Under Gumbel noise its perturbed version is exactly softmax(θ/ε). O(d).
    /// </summary>
    /// <param name="classes">Number of classes d (the length of a row and of a solution).</param>
    public static Oracle Argmax(int classes) => new ArgmaxOracle(classes);

    /// <summary>
    /// Top-k over C = {y ∈ [0,1]^d : Σy = k}: y*(θ) is the indicator of the k largest scores. Ties prefer the lower
    /// index. O(d): with AVX-512 a selection network for k ≤ 32 (one vector compare per sixteen scores, the few entrants
    /// merged by a sorting network) or the sorting network on rows of ≤ 256; otherwise a bounded heap for small k,
    /// quickselect for large k — the same selection on every path.
    /// </summary>
    /// <param name="dimension">Length d of a row.</param>
    /// <param name="k">Number of entries selected, in [1, d].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is outside [1, <paramref name="dimension"/>].</exception>
    public static Oracle TopK(int dimension, int k) => new TopKOracle(dimension, k);

    /// <summary>
    /// Ranking over the permutahedron of a reference vector v: y*(θ) is v permuted to the order of θ, the largest
    /// score getting the largest entry of v (a stable radix sort, O(d)). With the default v = (1, 2, …, d) the output is the vector of
    /// <b>ascending ranks</b>: the smallest score gets 1 and the largest gets d. Ties: the lower index counts as larger.
    /// </summary>
    /// <remarks>
    /// Label-ranking data usually write rank 1 for the most preferred label; such a label r corresponds to the
    /// target y = d + 1 − r here (most preferred ⇔ largest score ⇔ largest entry d).
    /// </remarks>
    /// <param name="dimension">Length d of a row; the reference is v = (1, 2, …, d), so solutions are ascending ranks.</param>
    public static Oracle Ranking(int dimension) => new RankingOracle(dimension);

    /// <summary>
    /// <see cref="Ranking(int)"/> over the permutahedron of <paramref name="reference"/>: the k-th largest score receives the
    /// k-th largest entry of the reference.
    /// </summary>
    /// <param name="reference">The reference vector v (any order, finite entries); its length is the row length.</param>
    /// <exception cref="ArgumentException">An entry of <paramref name="reference"/> is NaN or infinite.</exception>
    public static Oracle Ranking(ReadOnlySpan<float> reference) => new RankingOracle(reference);

    /// <summary>
    /// Maximum-weight perfect matching (assignment) over the Birkhoff polytope. A row of scores is an n×n matrix θ
    /// in row-major order (θ[i·n + j] = score of assigning row i to column j); y*(θ) is the permutation matrix, in
    /// the same layout, maximizing Σ θᵢⱼ yᵢⱼ. Exact, O(n³): shortest augmenting paths with dual potentials
    /// (the Hungarian method in Jonker–Volgenant form), in double precision.
    /// </summary>
    /// <param name="n">Side n of the assignment (n² scores per row).</param>
    public static Oracle Matching(int n) => new MatchingOracle(n);

    /// <summary>
    /// 0/1 knapsack: y*(θ) = argmax ⟨y, θ⟩ over y ∈ {0, 1}ⁿ with Σ wᵢyᵢ ≤ W, for non-negative integer weights w and capacity
    /// W; θ are the items' values (of any sign: an item of value ≤ 0 is never packed). Exact dynamic programming over the
    /// capacity, O(n·W) per row (n·W ≤ 2²⁶). Ties keep the lower-index items out (an item is packed only when it strictly
    /// improves the value).
    /// </summary>
    /// <param name="weights">Item weights, non-negative integers (one item per score).</param>
    /// <param name="capacity">Capacity W ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A weight or the capacity is negative, or n·(W + 1) exceeds 2²⁶ cells.</exception>
    public static Oracle Knapsack(IReadOnlyList<int> weights, int capacity) => new KnapsackOracle(weights, capacity);

    /// <summary>
    /// Shortest path from a source to a sink on a directed acyclic graph with <b>edge</b> costs: a row holds one cost per
    /// edge (in the order the edges were given) and y*(c) = argmin ⟨y, c⟩ is the 0/1 indicator of the edges on the
    /// cheapest source → sink path (<see cref="OptimizationSense.Minimize"/>; costs of any sign). Dynamic programming in
    /// topological order, O(V + E) per row. Ties keep the edge met first in the topological sweep (the lower edge index
    /// among the edges into a node). <see cref="GridShortestPath"/> builds PyEPO's grid with east and south arcs.
    /// </summary>
    /// <param name="nodes">Number of nodes V.</param>
    /// <param name="edges">The edges (from, to), each node in [0, V); the graph must be acyclic. A row of costs follows this order.</param>
    /// <param name="source">The source node.</param>
    /// <param name="sink">The sink node, reachable from the source.</param>
    /// <exception cref="ArgumentException">A node is out of range, the graph has a cycle, or the sink cannot be reached.</exception>
    public static Oracle ShortestPath(int nodes, IReadOnlyList<(int From, int To)> edges, int source, int sink) => new DagShortestPathOracle(nodes, edges, source, sink);

    /// <summary>
    /// Shortest path on a grid with <b>vertex</b> costs and 8-neighbour moves, from the top-left cell to the bottom-right one
    /// — the Warcraft map setting of the perturbed-optimizer paper (Berthet et al. 2020, §5.3, after Vlastelica et al.).
    /// A row holds one non-negative cost per cell (row-major); y*(c) = argmin ⟨y, c⟩ is the 0/1 indicator of the cells on
    /// the cheapest path, both ends included (<see cref="OptimizationSense.Minimize"/>). Dijkstra with a binary heap,
    /// O(V log V) per row; ties prefer the smaller tentative cost, then the lower cell index, then the first of the moves
    /// in the order N, NE, E, SE, S, SW, W, NW.
    /// </summary>
    /// <param name="rows">Grid rows.</param>
    /// <param name="columns">Grid columns.</param>
    public static Oracle GridVertexShortestPath(int rows, int columns) => new GridVertexShortestPathOracle(rows, columns);

    /// <summary>
    /// PyEPO's shortest-path grid (Tang &amp; Khalil) as a <see cref="ShortestPath"/> oracle: <paramref name="rows"/> ×
    /// <paramref name="columns"/> nodes, arcs east and south only, ordered row by row — the row's east arcs (v, v + 1), then its
    /// south arcs (v, v + columns) — from node 0 to the last node. The 5 × 5 grid has 40 arcs.
    /// </summary>
    /// <param name="rows">Grid rows (≥ 1; rows × columns ≥ 2 and ≤ 2²⁶ nodes).</param>
    /// <param name="columns">Grid columns (≥ 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">The grid has fewer than 2 or more than 2²⁶ nodes.</exception>
    public static Oracle GridShortestPath(int rows, int columns) => DagShortestPathOracle.Grid(rows, columns);

    /// <summary>
    /// The exact symmetric travelling salesman over <paramref name="cities"/> = k cities (a cost head,
    /// <see cref="OptimizationSense.Minimize"/>): a row holds the k(k − 1)/2 edge costs of the upper triangle of the cost
    /// matrix, row by row — (0, 1), (0, 2), …, (0, k − 1), (1, 2), …, (k − 2, k − 1); pair (i, j), i &lt; j, is entry
    /// i·(2k − i − 1)/2 + j − i − 1 — and the solution is the 0/1 indicator of the cheapest tour's k edges, in the same order.
    /// Held–Karp dynamic programming, O(2ᵏk²) time per row and 2ᵏ⁻¹(k − 1) doubles per thread. Ties go to the tour whose
    /// city sequence from city 0 (read in either direction) is lexicographically smallest. Its
    /// <see cref="LinearTaskLoss"/> is <see cref="LinearLosses.ZeroOneSquared"/>; no device kernel.
    /// </summary>
    /// <param name="cities">Number of cities k, from 3 to 16.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cities"/> is below 3 or above 16.</exception>
    public static Oracle TravelingSalesman(int cities) => new TravelingSalesmanOracle(cities);

    /// <summary>
    /// The exact multidimensional 0/1 knapsack (a score head, <see cref="OptimizationSense.Maximize"/>; PyEPO's knapsack
    /// with several resources): a row holds the n items' values θ, the solution is the 0/1 indicator of the packing that
    /// maximizes ⟨y, θ⟩ subject to Σᵢ weights[j][i]·yᵢ ≤ capacities[j] in every dimension j. Weights and capacities are
    /// integers ≥ 0 — scale decimal weights to integers (PyEPO's weights, 3.00–7.99, as hundredths 300–799 under capacity 2000
    /// for its capacity 20; <see cref="Evaluation.DecisionData.Knapsack"/> returns them so). An item of value ≤ 0 is never packed.
    /// Exact: a depth-first branch and bound with fractional bounds settles a row (PyEPO's 32 items of weights 300–799 under
    /// 2000: 0.1–0.3 ms on average), and a row it has not settled within 2¹⁵ nodes is solved by dynamic programming over the
    /// capacities that keeps only non-dominated packings (at most one per load vector, Π(Cⱼ + 1)), which bounds the cost of
    /// the instances that make branch and bound explode (many light items of similar value). Ties go to the packing whose indicator vector, read from the last item down, is smallest (as
    /// <see cref="KnapsackOracle"/>'s: an item is packed only when it strictly improves the value), up to the rounding of
    /// the values' double sums. A row that would need more than 2²² non-dominated packings (huge capacities for small
    /// weights) is refused with an <see cref="InvalidOperationException"/>. Its <see cref="LinearTaskLoss"/> is
    /// <see cref="LinearLosses.ZeroOneSquared"/>; no device kernel.
    /// </summary>
    /// <param name="weights">weights[j][i]: item i's weight in dimension j; 1 to 64 dimensions of 1 to 64 items each, every dimension the same items.</param>
    /// <param name="capacities">The capacity of each dimension, ≥ 0.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The weights or capacities are out of range or of mismatched lengths (the message names the dimension and item).</exception>
    public static Oracle MultidimensionalKnapsack(IReadOnlyList<IReadOnlyList<int>> weights, IReadOnlyList<int> capacities) =>
        new MultidimensionalKnapsackOracle(weights, capacities);

    /// <summary>Solves every row of a batch, in parallel over rows.</summary>
    /// <param name="scores">Row-major <c>[batch × Dimension]</c> scores; finite.</param>
    /// <param name="solutions">Row-major <c>[batch × OutputDimension]</c> destination.</param>
    /// <param name="maxDegreeOfParallelism">Most threads to use; −1 (default) uses every core.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length, or a score is NaN or infinite.</exception>
    public unsafe void Solve(ReadOnlySpan<float> scores, Span<float> solutions, int maxDegreeOfParallelism = -1)
    {
        int batch = Guard.RowCount(scores.Length, Dimension, nameof(scores));
        Guard.Rows(solutions.Length, batch, OutputDimension, nameof(solutions));
        Guard.Finite(scores, Dimension, nameof(scores));
        fixed (float* theta = scores)
        fixed (float* y = solutions)
        {
            RowBatch.Run(batch, maxDegreeOfParallelism, new SolveBatch(this, theta, y), static (in SolveBatch b, int start, int end) => b.Solve(start, end));
        }
    }

    /// <summary>Solves one row. <paramref name="theta"/> has <see cref="Dimension"/> finite entries and
    /// <paramref name="solution"/> has <see cref="OutputDimension"/> entries, all of which must be written.</summary>
    protected internal abstract void SolveRow(ReadOnlySpan<float> theta, Span<float> solution);

    /// <inheritdoc/>
    public override string ToString() => Name;

    private readonly unsafe struct SolveBatch(Oracle oracle, float* theta, float* y)
    {
        public void Solve(int start, int end)
        {
            int d = oracle.Dimension, dOut = oracle.OutputDimension;
            for (int row = start; row < end; row++)
            {
                oracle.SolveRow(new ReadOnlySpan<float>(theta + (long)row * d, d), new Span<float>(y + (long)row * dOut, dOut));
            }
        }
    }

    private sealed class DelegateOracle(int dimension, int outputDimension, OracleFunction solve, string name, OptimizationSense sense)
        : Oracle(dimension, outputDimension, sense)
    {
        public override string Name => name;

        protected internal override void SolveRow(ReadOnlySpan<float> theta, Span<float> solution)
        {
            solution.Clear();   // a solver that writes only some slots must not pass on stale values
            solve(theta, solution);
        }
    }
}
