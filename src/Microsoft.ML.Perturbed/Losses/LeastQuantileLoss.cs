using System.Collections.Concurrent;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// Least-quantile regression (Cuturi, Teboul &amp; Vert 2019, §5): the soft τ-quantile of the absolute residuals
/// xᵣ = |θᵣ − zᵣ| of a mini-batch, where θᵣ is the model's one output for row r and zᵣ its response. A batch-level loss
/// (<see cref="StructuredLoss.IsBatchLoss"/>): every row reports the batch's value q, and row r's gradient is
/// b·∂q/∂θᵣ, so that the mean over rows the training loop forms is q and its gradient ∂q/∂θ. Not in the per-row loss
/// registry (<see cref="StructuredLosses"/>), whose contract requires a row independent of its batch; public through
/// <see cref="StructuredLoss.LeastQuantile"/>.
/// </summary>
/// <remarks>
/// The quantile reads the mean of the sorted residuals over the window [τ − t/2, τ + t/2] of their distribution, each
/// residual holding a share 1/b: Sinkhorn's quantile operator (targets 0, ½, 1 with weights τ − t/2, t, 1 − τ − t/2, read
/// at the middle one), or ⟨w, s_ε(x)⟩ with the permutahedron soft sort s_ε and wᵢ the share of the i-th smallest residual's
/// interval [(i − 1)/b, i/b] inside the window, divided by t. At ε = 0 (<see cref="Exact"/>, the paper's "ε = 0" baseline)
/// that is the exact quantile, whose gradient steps on the residual(s) the window holds; both soft forms tend to it as ε → 0.
/// No sorting code of its own: the soft sorts are the library's operators, and the exact one is the soft sort at ε = 0.
/// </remarks>
internal sealed class LeastQuantileLoss : StructuredLoss
{
    /// <summary>The Sinkhorn cap on MaxIterations × (b + 3) (<see cref="SinkhornSorting.MaxHistory"/>) at the default 1000 iterations.</summary>
    private const int SinkhornIterations = 1000;

    private readonly double _level;
    private readonly double? _width;
    private readonly SoftRankingMethod _method;
    private readonly double _epsilon;
    private readonly ConcurrentDictionary<int, (RowOperator Operator, double[] Weights)> _operators = new();

    /// <summary>Creates the loss.</summary>
    /// <param name="level">τ ∈ (0, 1).</param>
    /// <param name="width">t ∈ (0, 1], or null for 1/b.</param>
    /// <param name="method">Sinkhorn or a permutahedron projection (ignored at ε = 0).</param>
    /// <param name="epsilon">ε ≥ 0 of the method (Sinkhorn: ≥ 1e-6); 0 for the exact quantile.</param>
    public LeastQuantileLoss(double level, double? width, SoftRankingMethod method, double epsilon) : base(1, 1)
    {
        if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(level), level, $"'{nameof(level)}' τ must lie in (0, 1), got {level}.");
        if (width is double t && !(t > 0 && t <= 1)) throw new ArgumentOutOfRangeException(nameof(width), t, $"'{nameof(width)}' t must lie in (0, 1], got {t}.");
        Check.FiniteNonNegative(epsilon, nameof(epsilon));
        if (epsilon > 0 && method is not (SoftRankingMethod.Sinkhorn or SoftRankingMethod.PermutahedronL2 or SoftRankingMethod.PermutahedronKL))
        {
            throw new ArgumentOutOfRangeException(nameof(method), method, $"'{nameof(method)}' must be Sinkhorn, PermutahedronL2 or PermutahedronKL, got {method}.");
        }
        if (epsilon > 0 && method == SoftRankingMethod.Sinkhorn) Check.InRange(epsilon, SinkhornSorting.MinEpsilon, double.MaxValue, nameof(epsilon));
        (_level, _width, _method, _epsilon) = (level, width, method, epsilon);
    }

    /// <summary>The paper's "ε = 0" baseline: the exact τ-quantile of the residuals, its gradient on the residual(s) it reads.</summary>
    public static LeastQuantileLoss Exact(double level, double? width = null) => new(level, width, SoftRankingMethod.PermutahedronL2, 0);

    /// <inheritdoc/>
    internal override bool IsBatchLoss => true;

    /// <inheritdoc/>
    public override string Name => _epsilon == 0 ? $"LeastQuantile(τ = {_level}, exact)" : $"LeastQuantile(τ = {_level}, {_method}, ε = {_epsilon})";

    /// <summary>
    /// The window width for a batch of <paramref name="count"/> residuals: t (or 1/b), narrowed to 0.999·2·min(τ, 1 − τ)
    /// when the window [τ − t/2, τ + t/2] would leave (0, 1) (Sinkhorn needs both outer weights positive).
    /// </summary>
    internal double Width(int count) => Math.Min(_width ?? 1.0 / count, 0.999 * 2 * Math.Min(_level, 1 - _level));

    /// <summary>
    /// wᵢ: the share of the i-th smallest of <paramref name="count"/> residuals (interval [i/b, (i + 1)/b)) inside the window
    /// [τ − t/2, τ + t/2], divided by t; they sum to 1.
    /// </summary>
    internal double[] WindowWeights(int count)
    {
        double t = Width(count), low = _level - t / 2, high = _level + t / 2;
        var w = new double[count];
        for (int i = 0; i < count; i++)
        {
            double overlap = Math.Min(high, (i + 1.0) / count) - Math.Max(low, (double)i / count);
            w[i] = overlap > 0 ? overlap / t : 0;
        }
        return w;
    }

    /// <inheritdoc/>
    protected override void EvaluateCore(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient, ulong draw)
    {
        int b = loss.Length;
        var residual = new double[b];
        var sign = new double[b];
        for (int r = 0; r < b; r++)
        {
            double difference = (double)theta[r] - target[r];
            residual[r] = Math.Abs(difference);
            sign[r] = Math.Sign(difference);
        }
        (RowOperator op, double[] weights) = Operator(b);
        var derivative = new double[b];
        double q;
        if (op is SinkhornSorting)
        {
            var value = new double[1];
            op.ForwardVjp(residual, [1.0], value, derivative);
            q = value[0];
        }
        else
        {
            var sorted = new double[b];
            op.ForwardVjp(residual, weights, sorted, derivative);
            q = 0;
            for (int i = 0; i < b; i++) q += weights[i] * sorted[i];
        }
        for (int r = 0; r < b; r++)
        {
            loss[r] = (float)q;
            gradient[r] = (float)(b * derivative[r] * sign[r]);
        }
    }

    // The operator for b residuals (a batch's size is fixed for a run but for its last batch and validation chunks).
    private (RowOperator Operator, double[] Weights) Operator(int b)
    {
        if (_operators.TryGetValue(b, out var cached)) return cached;
        RowOperator op;
        if (_epsilon > 0 && _method == SoftRankingMethod.Sinkhorn)
        {
            if ((long)SinkhornIterations * (b + 3) > SinkhornSorting.MaxHistory)
            {
                throw new ArgumentException($"The Sinkhorn least-quantile loss takes batches of at most {SinkhornSorting.MaxHistory / SinkhornIterations - 3:N0} residuals " +
                    $"(its unrolled gradient keeps {SinkhornIterations} iterations), got {b}; use a smaller batch or a permutahedron method.", "theta");
            }
            op = new SinkhornSorting(b, new SinkhornOptions
            {
                Output = SinkhornOutput.Quantile, Level = _level, QuantileWidth = Width(b), Epsilon = _epsilon, MaxIterations = SinkhornIterations, MaxDegreeOfParallelism = 1,
            });
        }
        else
        {
            op = new SoftSort(b, _epsilon, _method == SoftRankingMethod.PermutahedronKL ? SoftRegularization.KL : SoftRegularization.L2) { MaxDegreeOfParallelism = 1 };
        }
        var entry = (op, WindowWeights(b));
        if (_operators.Count >= 16) _operators.Clear();   // a run sees two or three batch sizes; bound the cache anyway
        _operators[b] = entry;
        return entry;
    }
}
