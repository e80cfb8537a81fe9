using System.Numerics;
using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Kendall and Mallows kernels and the Kendall embedding of the rankings that score vectors induce (Jiao &amp; Vert):
/// kernels on permutations that are positive definite and cost O(n log n) per pair (merge-sort inversion counting).
/// </summary>
/// <remarks>
/// <para>
/// A pair i &lt; j of positions is <em>concordant</em> for (x, y) when xᵢ − xⱼ and yᵢ − yⱼ have the same strict sign,
/// <em>discordant</em> when they have opposite strict signs, and <em>tied</em> when either difference is 0; n_c, n_d and
/// n_t count them, and n_c + n_d + n_t = C(n, 2) = n(n−1)/2.
/// </para>
/// <para>
/// Kendall kernel: K_τ(x, y) = (n_c − n_d) / C(n, 2), Kendall's τ-a (a tied pair counts as neither concordant nor
/// discordant, so K_τ(x, x) = 1 exactly when x has no ties). Mallows kernel: K_M(x, y) = exp(−λ (n_d + n_t / 2)), which
/// is exp(−λ n_d) for vectors without ties; a tied pair counts as half a discordance, which keeps the kernel positive
/// semi-definite on vectors with ties (it equals exp(−λ (C(n,2) − (n_c − n_d)) / 2)).
/// </para>
/// <para>
/// Kendall embedding: Φ(x) has one coordinate per pair i &lt; j, in the order (0,1), (0,2), …, (0,n−1), (1,2), …:
/// Φ(x)ᵢⱼ = 1 if xᵢ &lt; xⱼ, 0 if xᵢ &gt; xⱼ and ½ if they tie. The centered embedding Φ̃ = 2Φ − 1 (values −1, 0, 1)
/// satisfies ⟨Φ̃(x), Φ̃(y)⟩ = n_c − n_d = C(n, 2) K_τ(x, y). It has C(n, 2) coordinates, at most
/// <see cref="MaxEmbeddingLength"/>.
/// </para>
/// <para>
/// Smooth version (<see cref="SmoothEmbedding{T}"/>): Φ_ε(x)ᵢⱼ = σ((xⱼ − xᵢ)/ε) with the logistic σ, a differentiable
/// comparison that tends to Φ(x) as ε → 0 (ties give ½ for every ε). Applied to the output of <see cref="SoftRank"/> it
/// gives a Kendall embedding of soft ranks.
/// </para>
/// <para>
/// Batches are row-major <c>[batch × n]</c>; rows run in parallel and every result is independent of the thread count.
/// Inputs must be finite; a bad argument is refused naming it.
/// </para>
/// </remarks>
public static class PermutationKernels
{
    /// <summary>The most coordinates an embedding may have (2²⁴, reached at n = 5793): C(n, 2) must not exceed it.</summary>
    public const int MaxEmbeddingLength = 1 << 24;

    private static readonly ObjectPool<PairCounter> s_counters = new(() => new PairCounter());

    /// <summary>The number of coordinates C(n, 2) = n(n−1)/2 of the embedding of rows of <paramref name="dimension"/> values.</summary>
    /// <param name="dimension">Length n ≥ 2 of a row; C(n, 2) must not exceed <see cref="MaxEmbeddingLength"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is below 2 or too large.</exception>
    public static int EmbeddingLength(int dimension)
    {
        Check.AtLeast(dimension, 2, nameof(dimension));
        long pairs = (long)dimension * (dimension - 1) / 2;
        if (pairs > MaxEmbeddingLength)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension,
                $"'{nameof(dimension)}' = {dimension} gives {pairs} pairs, more than the limit MaxEmbeddingLength = {MaxEmbeddingLength}.");
        }
        return (int)pairs;
    }

    /// <summary>The Kendall kernel (τ-a) K_τ(x, y) = (n_c − n_d) / C(n, 2) in O(n log n); in [−1, 1].</summary>
    /// <param name="x">First score vector (finite, length n ≥ 2).</param>
    /// <param name="y">Second score vector (finite, same length).</param>
    public static double Kendall<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        PairCounter.Counts counts = CountPairs(x, y);
        return counts.Score / Pairs(x.Length);
    }

    /// <summary>The Mallows kernel K_M(x, y) = exp(−λ (n_d + n_t/2)) in O(n log n) (exp(−λ n_d) without ties); in (0, 1].</summary>
    /// <param name="x">First score vector (finite, length n ≥ 2).</param>
    /// <param name="y">Second score vector (finite, same length).</param>
    /// <param name="lambda">Bandwidth λ ≥ 0 (finite); 0 gives the constant kernel 1.</param>
    public static double Mallows<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, double lambda) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.FiniteNonNegative(lambda, nameof(lambda));
        PairCounter.Counts counts = CountPairs(x, y);
        return MallowsValue(counts, lambda);
    }

    /// <summary>
    /// The Kendall Gram matrix of a batch: <c>gram[a × m + b]</c> = K_τ(row a, row b), symmetric, positive semi-definite,
    /// O(m² n log n).
    /// </summary>
    /// <param name="rows">Row-major <c>[m × n]</c> scores (finite).</param>
    /// <param name="dimension">Length n ≥ 2 of a row.</param>
    /// <param name="gram">Receives the <c>[m × m]</c> matrix.</param>
    /// <param name="maxDegreeOfParallelism">Most threads; −1 (default) uses every core. The result does not depend on it.</param>
    public static void KendallGram<T>(ReadOnlySpan<T> rows, int dimension, Span<double> gram, int maxDegreeOfParallelism = -1)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Gram(rows, dimension, gram, double.NaN, maxDegreeOfParallelism);

    /// <summary>The Mallows Gram matrix of a batch: <c>gram[a × m + b]</c> = K_M(row a, row b), positive semi-definite.</summary>
    /// <param name="rows">Row-major <c>[m × n]</c> scores (finite).</param>
    /// <param name="dimension">Length n ≥ 2 of a row.</param>
    /// <param name="lambda">Bandwidth λ ≥ 0 (finite).</param>
    /// <param name="gram">Receives the <c>[m × m]</c> matrix.</param>
    /// <param name="maxDegreeOfParallelism">Most threads; −1 (default) uses every core. The result does not depend on it.</param>
    public static void MallowsGram<T>(ReadOnlySpan<T> rows, int dimension, double lambda, Span<double> gram, int maxDegreeOfParallelism = -1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.FiniteNonNegative(lambda, nameof(lambda));
        Gram(rows, dimension, gram, lambda, maxDegreeOfParallelism);
    }

    /// <summary>The Kendall embedding Φ (1 if xᵢ &lt; xⱼ, 0 if xᵢ &gt; xⱼ, ½ on ties; pairs i &lt; j in row order) of each row.</summary>
    /// <param name="rows">Row-major <c>[m × n]</c> scores (finite).</param>
    /// <param name="dimension">Length n ≥ 2 of a row (C(n, 2) ≤ <see cref="MaxEmbeddingLength"/>).</param>
    /// <param name="embedding">Receives <c>[m × C(n, 2)]</c> values.</param>
    /// <param name="maxDegreeOfParallelism">Most threads; −1 (default) uses every core. The result does not depend on it.</param>
    public static void Embedding<T>(ReadOnlySpan<T> rows, int dimension, Span<T> embedding, int maxDegreeOfParallelism = -1)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Embed(rows, dimension, embedding, 0, maxDegreeOfParallelism);

    /// <summary>
    /// The smooth Kendall embedding Φ_ε(x)ᵢⱼ = σ((xⱼ − xᵢ)/ε) of each row (logistic σ; → Φ as ε → 0), differentiable in x:
    /// ∂Φ_ε(x)ᵢⱼ/∂xⱼ = −∂Φ_ε(x)ᵢⱼ/∂xᵢ = Φ_ε(x)ᵢⱼ (1 − Φ_ε(x)ᵢⱼ)/ε.
    /// </summary>
    /// <param name="rows">Row-major <c>[m × n]</c> scores (finite); soft ranks from <see cref="SoftRank"/> give the embedding of soft ranks.</param>
    /// <param name="dimension">Length n ≥ 2 of a row (C(n, 2) ≤ <see cref="MaxEmbeddingLength"/>).</param>
    /// <param name="epsilon">Temperature ε &gt; 0 (finite).</param>
    /// <param name="embedding">Receives <c>[m × C(n, 2)]</c> values in (0, 1).</param>
    /// <param name="maxDegreeOfParallelism">Most threads; −1 (default) uses every core. The result does not depend on it.</param>
    public static void SmoothEmbedding<T>(ReadOnlySpan<T> rows, int dimension, double epsilon, Span<T> embedding, int maxDegreeOfParallelism = -1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.FinitePositive(epsilon, nameof(epsilon));
        Embed(rows, dimension, embedding, epsilon, maxDegreeOfParallelism);
    }

    private static double Pairs(int n) => (double)n * (n - 1) / 2;

    private static double MallowsValue(PairCounter.Counts counts, double lambda)
        => lambda == 0 ? 1.0 : Math.Exp(-lambda * (counts.Discordant + 0.5 * counts.Tied));

    private static unsafe PairCounter.Counts CountPairs<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length < 2) throw new ArgumentException($"Expected at least 2 scores, got {x.Length}.", nameof(x));
        Guard.Length(y.Length, x.Length, nameof(y), "the length of x");
        Guard.Finite(x, x.Length, nameof(x));
        Guard.Finite(y, y.Length, nameof(y));
        PairCounter counter = s_counters.Rent();
        try
        {
            fixed (T* px = x)
            fixed (T* py = y)
            {
                return counter.Count(px, py, x.Length);
            }
        }
        finally
        {
            s_counters.Return(counter);
        }
    }

    private static unsafe void Gram<T>(ReadOnlySpan<T> rows, int dimension, Span<double> gram, double lambda, int maxDegreeOfParallelism)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast(dimension, 2, nameof(dimension));
        Check.Parallelism(maxDegreeOfParallelism, nameof(maxDegreeOfParallelism));
        int m = Guard.RowCount(rows.Length, dimension, nameof(rows));
        Guard.Rows(gram.Length, m, m, nameof(gram));
        Guard.Finite(rows, dimension, nameof(rows));
        fixed (T* pRows = rows)
        fixed (double* pGram = gram)
        {
            RowBatch.Run(m, maxDegreeOfParallelism, new GramBatch<T>(pRows, pGram, m, dimension, lambda),
                static (in GramBatch<T> b, int start, int end) => GramRows(in b, start, end));
        }
    }

    private static unsafe void GramRows<T>(in GramBatch<T> b, int start, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Row a writes the entries (a, c) and (c, a) for c ≥ a: disjoint from every other row's.
        PairCounter counter = s_counters.Rent();
        try
        {
            double pairs = Pairs(b.Dimension);
            for (int a = start; a < end; a++)
            {
                for (int c = a; c < b.Count; c++)
                {
                    PairCounter.Counts counts = counter.Count(b.Rows + (long)a * b.Dimension, b.Rows + (long)c * b.Dimension, b.Dimension);
                    double value = double.IsNaN(b.Lambda) ? counts.Score / pairs : MallowsValue(counts, b.Lambda);
                    b.Gram[(long)a * b.Count + c] = value;
                    b.Gram[(long)c * b.Count + a] = value;
                }
            }
        }
        finally
        {
            s_counters.Return(counter);
        }
    }

    private static unsafe void Embed<T>(ReadOnlySpan<T> rows, int dimension, Span<T> embedding, double epsilon, int maxDegreeOfParallelism)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int length = EmbeddingLength(dimension);
        Check.Parallelism(maxDegreeOfParallelism, nameof(maxDegreeOfParallelism));
        int m = Guard.RowCount(rows.Length, dimension, nameof(rows));
        if ((long)m * length != embedding.Length)
        {
            throw new ArgumentException($"Expected {(long)m * length} values ({m} rows × {length}), got {embedding.Length}.", nameof(embedding));
        }
        Guard.Finite(rows, dimension, nameof(rows));
        fixed (T* pRows = rows)
        fixed (T* pOut = embedding)
        {
            RowBatch.Run(m, maxDegreeOfParallelism, new EmbeddingBatch<T>(pRows, pOut, dimension, length, epsilon),
                static (in EmbeddingBatch<T> b, int start, int end) => EmbedRows(in b, start, end));
        }
    }

    private static unsafe void EmbedRows<T>(in EmbeddingBatch<T> b, int start, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = b.Dimension;
        T one = T.One, half = T.CreateTruncating(0.5);
        for (int row = start; row < end; row++)
        {
            T* x = b.Rows + (long)row * n;
            T* output = b.Output + (long)row * b.Length;
            int k = 0;
            for (int i = 0; i < n - 1; i++)
            {
                double xi = double.CreateTruncating(x[i]);
                for (int j = i + 1; j < n; j++, k++)
                {
                    double xj = double.CreateTruncating(x[j]);
                    output[k] = b.Epsilon > 0
                        ? T.CreateTruncating(Logistic((xj - xi) / b.Epsilon))
                        : xi < xj ? one : xi > xj ? T.Zero : half;
                }
            }
        }
    }

    private static double Logistic(double t) => t >= 0 ? 1 / (1 + Math.Exp(-t)) : Math.Exp(t) / (1 + Math.Exp(t));

    private readonly unsafe struct GramBatch<T>(T* rows, double* gram, int count, int dimension, double lambda) where T : unmanaged
    {
        public readonly T* Rows = rows;
        public readonly double* Gram = gram;
        public readonly int Count = count, Dimension = dimension;
        public readonly double Lambda = lambda;   // NaN: the Kendall kernel
    }

    private readonly unsafe struct EmbeddingBatch<T>(T* rows, T* output, int dimension, int length, double epsilon) where T : unmanaged
    {
        public readonly T* Rows = rows, Output = output;
        public readonly int Dimension = dimension, Length = length;
        public readonly double Epsilon = epsilon;   // 0: the exact embedding
    }
}
