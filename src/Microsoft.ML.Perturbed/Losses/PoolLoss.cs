using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Numerics;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Random;
using Microsoft.ML.Perturbed.Threading;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// Base of the losses over a solution pool (PyEPO; Mulamba et al. 2021, Mandi et al. 2022; docs/architecture.md,
/// "Losses"): a row's loss compares its scores θ on the solutions of a pool Γ — the training targets' solutions and the
/// solutions the oracle found on the model's scores, deduplicated (<see cref="SolutionPool"/>) — with those of the row's
/// true solution w*. A derived loss gives the value and the gradient's coefficients from zᵥ = ⟨θ, w⟩ (and, for the
/// ranking losses, uᵥ = ⟨t, w⟩ with the true costs or scores t): ∇ = Σ aᵥ w over the row's set S = Γ ∪ {w*} (w* last
/// when it is not a member).
/// </summary>
/// <remarks>
/// <para>
/// How the pool grows, so that results depend on the seed and the sequence of calls only, never on threads: the
/// training loop seeds it with every training target's solution (<see cref="StructuredLoss.BeginTraining"/>, in row
/// order); a call with draw k reads the pool as it stands and afterwards stages, in row order, its rows' w* and — when the
/// draw's coin, uniform from the Philox stream (seed, k, row −1), falls below <see cref="SolveRatio"/> — y*(θ) of every
/// row; staged solutions join when a call with another draw comes (the next training step), so every call with the same
/// draw sees the same pool, and the value is a function of θ there (its gradient is exact). The draw
/// <see cref="ValidationDraw"/> (the training loop's validation passes) reads the pool and stages nothing. PyEPO adds the
/// step's solutions before its loss; here they count from the next step on. Calls are serialized (one at a time).
/// </para>
/// <para>
/// Senses (s = <see cref="Oracle.Sign"/>): a maximizing head scores zᵥ, a cost head (s = −1) pays it; each loss reads s
/// once. Cost per row: O(|S|·d) for the dot products and the gradient; the pool holds |Γ|·d floats.
/// </para>
/// </remarks>
internal abstract class PoolLoss : StructuredLoss
{
    /// <summary>The draw of the training loop's validation passes: reads the pool, stages nothing.</summary>
    public const ulong ValidationDraw = ulong.MaxValue;

    private readonly object _gate = new();
    private readonly ObjectPool<Workspace> _workspaces;
    private ulong? _lastDraw;
    private float[] _found = [];

    /// <summary>Creates the loss over <paramref name="oracle"/>, whose solutions must live in the space of its scores.</summary>
    /// <param name="oracle">The solver.</param>
    /// <param name="targets">What a target row holds: the true solution w*, or the true costs (scores) t, whose solution is w*.</param>
    /// <param name="solveRatio">Probability in (0, 1] that a training step solves its rows and stages their solutions.</param>
    /// <param name="seed">Seed of the steps' coins.</param>
    protected PoolLoss(Oracle oracle, LabelKind targets, double solveRatio, int seed)
        : base((oracle ?? throw new ArgumentNullException(nameof(oracle))).Dimension, oracle.Dimension)
    {
        if (oracle.OutputDimension != oracle.Dimension)
        {
            throw new ArgumentException($"A loss over a solution pool compares ⟨θ, w⟩ over solutions w in the space of the scores; {oracle.Name} maps {oracle.Dimension} scores to {oracle.OutputDimension} values.", nameof(oracle));
        }
        Check.Defined(targets, nameof(targets));
        CheckSolveRatio(solveRatio, nameof(solveRatio));
        (Oracle, Targets, SolveRatio, Seed) = (oracle, targets, solveRatio, seed);
        Pool = new SolutionPool(oracle.Dimension);
        _workspaces = new ObjectPool<Workspace>(() => new Workspace(Dimension));
    }

    /// <summary>The solver.</summary>
    public Oracle Oracle { get; }

    /// <summary>Whether a target row is the true solution (NCE, CMAP) or the true costs or scores (the ranking losses).</summary>
    public LabelKind Targets { get; }

    /// <summary>Probability that a training step calls the oracle on its rows (PyEPO's <c>solve_ratio</c>).</summary>
    public double SolveRatio { get; }

    /// <summary>Seed of the steps' coins.</summary>
    public int Seed { get; }

    /// <summary>Most threads a call may use; −1 (default) uses every core. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>The pool (its members, and what the last draw staged).</summary>
    internal SolutionPool Pool { get; }

    /// <summary>Cost targets: 2d, the costs t then w*(t), so w* is solved once per row. Solution targets: d (no encoded form).</summary>
    public override int EncodedTargetDimension => Targets == LabelKind.Costs ? 2 * Dimension : Dimension;

    /// <summary>Whether the loss reads uᵥ = ⟨t, w⟩ (the ranking losses, whose targets are costs).</summary>
    protected virtual bool UsesTrueObjective => false;

    /// <summary>
    /// The row's value, and its gradient's coefficients <paramref name="a"/> (∇ = Σ aᵥ w over S), from the scores
    /// <paramref name="z"/> of S's solutions (and their true objectives <paramref name="u"/> when <see cref="UsesTrueObjective"/>;
    /// empty otherwise); <paramref name="star"/> is w*'s position in S, <paramref name="sign"/> = <see cref="Oracle.Sign"/>.
    /// </summary>
    protected abstract double Coefficients(ReadOnlySpan<double> z, ReadOnlySpan<double> u, int star, int sign, Span<double> a);

    /// <summary>Checks a solve ratio: in (0, 1].</summary>
    internal static void CheckSolveRatio(double value, string name)
    {
        if (!(value > 0 && value <= 1)) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be in (0, 1], got {value}.");
    }

    /// <summary>Empties the pool, then stages every target's solution of one unshuffled pass over <paramref name="training"/> and commits them.</summary>
    internal override void BeginTraining(TrainingSource training)
    {
        ArgumentNullException.ThrowIfNull(training);
        int d = Dimension, width = training.TargetDimension;
        lock (_gate)
        {
            Pool.Clear();
            _lastDraw = null;
            var rows = new TrainingRows(training.FeatureCount, width, training.IsSparse, training.HasWeights);
            var star = new float[d];
            using BatchReader reader = training.OpenReader(0, shuffle: false);
            reader.StartPass();
            long row = 0;
            while (reader.Read(rows, StructuredTrainer.ValidationChunkRows))
            {
                for (int r = 0; r < rows.Count; r++, row++)
                {
                    Pool.Stage(TargetSolution(rows.Targets.Slice(r * width, width), star, (int)Math.Min(row, int.MaxValue)));
                }
            }
            Pool.Commit();
        }
    }

    /// <inheritdoc/>
    protected override unsafe void EncodeTargetsCore(ReadOnlySpan<float> target, Span<float> encoded)
    {
        if (Targets != LabelKind.Costs)
        {
            target.CopyTo(encoded);
            return;
        }
        fixed (float* pTarget = target)
        fixed (float* pEncoded = encoded)
        {
            RowBatch.Run(target.Length / Dimension, MaxDegreeOfParallelism, new Encoding(this, pTarget, pEncoded),
                static (in Encoding b, int start, int end) => b.Encode(start, end));
        }
    }

    /// <inheritdoc/>
    protected override unsafe void EvaluateCore(ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> loss, Span<float> gradient, ulong draw)
    {
        int batch = loss.Length, d = Dimension;
        lock (_gate)
        {
            if (_lastDraw != draw)
            {
                Pool.Commit();   // what the earlier draw staged joins now
                _lastDraw = draw;
            }
            bool grow = draw != ValidationDraw;
            bool solve = grow && (SolveRatio >= 1 || PhiloxStream.ForSample(Seed, draw, -1, 0).NextDouble() < SolveRatio);
            if (_found.Length < 2L * batch * d) _found = new float[2L * batch * d];
            fixed (float* pTheta = theta)
            fixed (float* pTarget = target)
            fixed (float* pLoss = loss)
            fixed (float* pGradient = gradient)
            fixed (float* pFound = _found)
            {
                RowBatch.Run(batch, MaxDegreeOfParallelism, new Rows(this, pTheta, pTarget, target.Length / batch, pLoss, pGradient, pFound, batch, solve),
                    static (in Rows b, int start, int end) => b.Evaluate(start, end));
            }
            if (!grow) return;
            for (int r = 0; r < batch; r++) Pool.Stage(_found.AsSpan(r * d, d));
            if (solve) for (int r = 0; r < batch; r++) Pool.Stage(_found.AsSpan((batch + r) * d, d));
        }
    }

    // w* of a target row: the row itself (solution targets), its encoded second half, or the oracle's solution of its costs.
    private ReadOnlySpan<float> TargetSolution(ReadOnlySpan<float> target, Span<float> scratch, int row)
    {
        int d = Dimension;
        if (Targets != LabelKind.Costs) return target[..d];
        if (target.Length == 2 * d) return target.Slice(d, d);
        SolverLayer.Solve(Oracle, target[..d], scratch, row);
        return scratch;
    }

    private double EvaluateRow(int row, ReadOnlySpan<float> theta, ReadOnlySpan<float> target, Span<float> gradient, Span<float> star)
    {
        int d = Dimension, members = Pool.Count;
        TargetSolution(target, star, row).CopyTo(star);   // w* kept for staging (a copy onto itself when solved there)
        int at = Pool.IndexOf(star), n = at >= 0 ? members : members + 1, starIndex = at >= 0 ? at : members;
        Workspace ws = _workspaces.Rent();
        try
        {
            ws.Ensure(n);
            Span<double> z = ws.Z.AsSpan(0, n), a = ws.A.AsSpan(0, n), acc = ws.Acc;
            Span<double> u = UsesTrueObjective ? ws.U.AsSpan(0, n) : [];
            ReadOnlySpan<float> t = target[..d];
            for (int k = 0; k < n; k++)
            {
                ReadOnlySpan<float> w = k < members ? Pool.Row(k) : star;
                z[k] = SpanMath.Dot(theta, w);
                if (u.Length > 0) u[k] = SpanMath.Dot(t, w);
            }
            double value = Coefficients(z, u, starIndex, Oracle.Sign, a);
            acc.Clear();
            for (int k = 0; k < n; k++)
            {
                if (a[k] != 0) SpanMath.AddScaled(acc, k < members ? Pool.Row(k) : star, a[k]);
            }
            for (int i = 0; i < d; i++)
            {
                gradient[i] = (float)acc[i];
                if (!float.IsFinite(gradient[i])) throw new ArgumentException($"{Name}'s gradient overflows single precision at row {row}, column {i}.", "theta");
            }
            if (!float.IsFinite((float)value)) throw new ArgumentException($"{Name}'s value {value} does not fit single precision at row {row}.", "theta");
            return value;
        }
        finally
        {
            _workspaces.Return(ws);
        }
    }

    private sealed class Workspace(int dimension)
    {
        public double[] Z = [], U = [], A = [];
        public readonly double[] Acc = new double[dimension];

        public void Ensure(int n)
        {
            if (Z.Length >= n) return;
            int size = Math.Max(n, 2 * Z.Length);
            (Z, U, A) = (new double[size], new double[size], new double[size]);
        }
    }

    private readonly unsafe struct Rows(PoolLoss owner, float* theta, float* target, int width, float* loss, float* gradient, float* found, int batch, bool solve)
    {
        public void Evaluate(int start, int end)
        {
            int d = owner.Dimension;
            for (int r = start; r < end; r++)
            {
                var th = new ReadOnlySpan<float>(theta + (long)r * d, d);
                loss[r] = (float)owner.EvaluateRow(r, th, new ReadOnlySpan<float>(target + (long)r * width, width),
                    new Span<float>(gradient + (long)r * d, d), new Span<float>(found + (long)r * d, d));
                if (solve) SolverLayer.Solve(owner.Oracle, th, new Span<float>(found + (long)(batch + r) * d, d), r);
            }
        }
    }

    private readonly unsafe struct Encoding(PoolLoss owner, float* target, float* encoded)
    {
        public void Encode(int start, int end)
        {
            int d = owner.Dimension;
            for (int r = start; r < end; r++)
            {
                var t = new ReadOnlySpan<float>(target + (long)r * d, d);
                var e = new Span<float>(encoded + (long)r * 2 * d, 2 * d);
                t.CopyTo(e);
                SolverLayer.Solve(owner.Oracle, t, e.Slice(d, d), r);
            }
        }
    }
}
