using Microsoft.ML.Perturbed.Numerics;
using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// The SUQUAN objective J(W, b, f) = (1/N) Σᵣ ℓ(yᵣ, W Ψ_f(xᵣ) + b) + λ/2 ‖W‖² with the logistic loss (one output: ℓ =
/// log(1 + e^s) − y s, y ∈ {0, 1}) or the multinomial one (k outputs: ℓ = log Σ e^{s_c} − s_y), and its gradient in
/// (W, b) — the w-step — or in (f, b) — the f-step, through ⟨W_c, Ψ_f(x)⟩ = ⟨B Π_σ W_c, f⟩ (<see cref="RankRuns"/>).
/// Rows are summed in fixed blocks whose size depends on N only, each block in row order, then the blocks in order: the
/// bits do not depend on the thread count.
/// </summary>
internal sealed class SupervisedQuantileObjective
{
    [ThreadStatic] private static double[]? t_scratch;

    private readonly RankRuns _runs;
    private readonly int[] _labels;
    private readonly double _lambda;
    private readonly int _maxDop;
    private readonly int _blockRows, _blocks, _stride;
    private readonly double[] _partial;

    public SupervisedQuantileObjective(RankRuns runs, int[] labels, int outputs, double lambda, int maxDegreeOfParallelism)
    {
        _runs = runs;
        _labels = labels;
        Outputs = outputs;
        _lambda = lambda;
        _maxDop = maxDegreeOfParallelism;
        _blockRows = Math.Max(64, (runs.Rows + 255) / 256);
        _blocks = (runs.Rows + _blockRows - 1) / _blockRows;
        _stride = 1 + outputs + outputs * runs.Length;   // loss, ∇b, then ∇W (or ∇f in its first n entries)
        _partial = new double[(long)_blocks * _stride];
    }

    /// <summary>Number of outputs.</summary>
    public int Outputs { get; }

    /// <summary>Row length n.</summary>
    public int Length => _runs.Length;

    /// <summary>What a call differentiates.</summary>
    public enum Gradient
    {
        /// <summary>The value only.</summary>
        None,

        /// <summary>∂J/∂W and ∂J/∂b (the w-step).</summary>
        Weights,

        /// <summary>∂J/∂f and ∂J/∂b (the f-step).</summary>
        Quantiles,
    }

    /// <summary>
    /// J at (W, b, f); with a gradient, writes ∂J/∂W (<c>[outputs × n]</c>) or ∂J/∂f (n) into <paramref name="gradient"/>
    /// followed by ∂J/∂b (outputs).
    /// </summary>
    public double Evaluate(double[] weights, double[] bias, double[] f, Gradient mode, double[]? gradient)
    {
        RowBatch.Run(_blocks, _maxDop, new Batch(this, weights, bias, f, mode), static (in Batch b, int start, int end) => b.Owner.Blocks(in b, start, end));
        int n = Length, k = Outputs;
        int length = mode switch
        {
            Gradient.None => 0,
            Gradient.Weights => k * n,
            Gradient.Quantiles => n,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown gradient."),
        };
        if (gradient is not null) Array.Clear(gradient, 0, length + k);
        double loss = 0;
        for (int block = 0; block < _blocks; block++)
        {
            ReadOnlySpan<double> p = _partial.AsSpan(block * _stride, _stride);
            loss += p[0];
            if (mode == Gradient.None) continue;
            Span<double> g = gradient;
            for (int i = 0; i < length; i++) g[i] += p[1 + k + i];
            for (int c = 0; c < k; c++) g[length + c] += p[1 + c];
        }
        double inverse = 1.0 / _runs.Rows;
        double penalty = 0.5 * _lambda * SpanMath.Dot(weights, weights);
        if (mode != Gradient.None)
        {
            Span<double> g = gradient;
            for (int i = 0; i < length + k; i++) g[i] *= inverse;
            if (mode == Gradient.Weights) SpanMath.AddScaled(g[..length], weights, _lambda);
        }
        return loss * inverse + penalty;
    }

    private void Blocks(in Batch batch, int start, int end)
    {
        int n = Length, k = Outputs;
        double[] scratch = t_scratch is { } s && s.Length >= 2 * n + 2 * k ? s : (t_scratch = new double[2 * n + 2 * k]);
        Span<double> psi = scratch.AsSpan(0, n), pooled = scratch.AsSpan(n, n), scores = scratch.AsSpan(2 * n, k), residual = scratch.AsSpan(2 * n + k, k);
        ReadOnlySpan<double> w = batch.Weights, f = batch.F;
        for (int block = start; block < end; block++)
        {
            Span<double> p = _partial.AsSpan(block * _stride, _stride);
            p.Clear();
            Span<double> gradB = p.Slice(1, k), grad = p[(1 + k)..];
            int last = Math.Min(_runs.Rows, (block + 1) * _blockRows);
            for (int r = block * _blockRows; r < last; r++)
            {
                _runs.Normalize(r, f, psi);
                for (int c = 0; c < k; c++) scores[c] = SpanMath.Dot(w.Slice(c * n, n), psi) + batch.Bias[c];
                p[0] += Loss(scores, _labels[r], residual);
                if (batch.Mode == Gradient.None) continue;
                for (int c = 0; c < k; c++) gradB[c] += residual[c];
                if (batch.Mode == Gradient.Weights)
                {
                    for (int c = 0; c < k; c++) SpanMath.AddScaled(grad.Slice(c * n, n), psi, residual[c]);
                }
                else
                {
                    // Σ_c g_c B Π_σ W_c = B Π_σ (Σ_c g_c W_c): one pooling of the combined weights.
                    pooled.Clear();
                    for (int c = 0; c < k; c++) SpanMath.AddScaled(pooled, w.Slice(c * n, n), residual[c]);
                    _runs.AddPooled(r, pooled, 1, grad[..n]);
                }
            }
        }
    }

    /// <summary>The row's loss; writes ∂ℓ/∂s into <paramref name="residual"/>.</summary>
    internal static double Loss(ReadOnlySpan<double> scores, int label, Span<double> residual)
    {
        if (scores.Length == 1)
        {
            double s = scores[0], e = Math.Exp(-Math.Abs(s));
            residual[0] = (s >= 0 ? 1 / (1 + e) : e / (1 + e)) - label;
            return Math.Max(s, 0) - label * s + Math.Log(1 + e);
        }
        double max = double.NegativeInfinity;
        foreach (double s in scores) max = Math.Max(max, s);
        double sum = 0;
        for (int c = 0; c < scores.Length; c++)
        {
            residual[c] = Math.Exp(scores[c] - max);
            sum += residual[c];
        }
        for (int c = 0; c < scores.Length; c++) residual[c] = residual[c] / sum - (c == label ? 1 : 0);
        return max + Math.Log(sum) - scores[label];
    }

    private readonly struct Batch(SupervisedQuantileObjective owner, double[] weights, double[] bias, double[] f, Gradient mode)
    {
        public readonly SupervisedQuantileObjective Owner = owner;
        public readonly double[] Weights = weights;
        public readonly double[] Bias = bias;
        public readonly double[] F = f;
        public readonly Gradient Mode = mode;
    }
}
