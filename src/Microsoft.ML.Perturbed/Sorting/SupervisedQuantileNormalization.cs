using Microsoft.ML.Perturbed.Numerics;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// SUQUAN, supervised quantile normalization (Le Morvan &amp; Vert 2017): a quantile function f learned jointly with a
/// linear model on the quantile-normalized rows, min over (W, b, f) of (1/N) Σᵣ ℓ(yᵣ, W Ψ_f(xᵣ) + b) + λ/2 ‖W‖² with
/// f in C = {f non-decreasing, Σ f = 0, ‖f‖² ≤ n}. Ψ_f(x) puts f's values at x's ascending ranks, a run of tied values
/// sharing the mean of its targets (<see cref="RankRuns"/>; <see cref="SoftQuantileNormalization"/> at ε = 0 does the
/// same). The score ⟨W_c, Ψ_f(x)⟩ = ⟨B Π_σ W_c, f⟩ is bilinear, so the fit alternates two convex problems:
/// <list type="bullet">
/// <item>w-step: logistic (or multinomial) regression of y on Ψ_f(x) in (W, b), by L-BFGS from the current point;</item>
/// <item>f-step: the same loss in (f, b) with features B Π_σ W, by projected gradient onto C from the current point
/// (backtracking on the projection arc): PAV for the order (<see cref="IsotonicRegression"/>), centring (a shift of f
/// only moves the bias by Σ W), and the ball (with the L2 penalty on W the scale of f only trades against ‖W‖, so the
/// ball holds f at ‖f‖² = n, i.e. standardized).</item>
/// </list>
/// Every step is a descent method started where the previous one stopped and accepts only points that do not raise
/// the objective, so the objective never increases over the alternations (projecting an unconstrained f-step's solution
/// onto C instead, the other scheme the paper describes, can raise it). f starts at the initial target (by default the
/// mean of the training rows sorted ascending, the classic quantile-normalization reference) centred and scaled to
/// ‖f‖² = n; W and b start at 0 and the first step is a w-step: with no alternation the result is quantile normalization
/// to the initial target followed by logistic regression. The authors' R package differs in its tie rule (ties broken by
/// order of appearance) and its default start (normal quantiles).
/// </summary>
internal static class SupervisedQuantileNormalization
{
    /// <summary>Fits SUQUAN on <paramref name="rows"/> (<c>[N × n]</c>, finite) with class labels in [0, classes).</summary>
    /// <param name="rows">The training rows, row-major.</param>
    /// <param name="labels">Class of each row: 0 or 1 when <paramref name="outputs"/> is 1, else in [0, outputs).</param>
    /// <param name="length">Row length n ≥ 2.</param>
    /// <param name="outputs">1 for binary logistic regression (the score is the logit of class 1), k ≥ 2 for multinomial.</param>
    /// <param name="options">Settings (null: the defaults).</param>
    /// <exception cref="ArgumentException">Bad rows (the message names the row and column), labels, or settings.</exception>
    public static SupervisedQuantileModel Fit(ReadOnlySpan<float> rows, ReadOnlySpan<int> labels, int length, int outputs,
        SupervisedQuantileOptions? options = null)
    {
        options ??= new SupervisedQuantileOptions();
        Check.AtLeast(length, 2, nameof(length));
        Check.AtLeast(outputs, 1, nameof(outputs));
        options.Validate(length);
        int count = Guard.RowCount(rows.Length, length, nameof(rows));
        Guard.Length(labels.Length, count, nameof(labels), "one label per row");
        int classes = outputs == 1 ? 2 : outputs;
        var seen = new bool[classes];
        for (int r = 0; r < count; r++)
        {
            if ((uint)labels[r] >= (uint)classes)
            {
                throw new ArgumentException($"Label of row {r} is {labels[r]}, expected a class in [0, {classes - 1}].", nameof(labels));
            }
            seen[labels[r]] = true;
        }
        if (seen.Count(s => s) < 2)
        {
            throw new ArgumentException($"All {count} rows have label {labels[0]}: a classifier needs rows of at least two classes.", nameof(labels));
        }

        RankRuns runs = RankRuns.From(rows, length, options.MaxDegreeOfParallelism);
        double[] initial = options.InitialTarget ?? QuantileTargets.FromData(rows, length);
        if (initial[^1] == initial[0]) initial = QuantileTargets.Uniform(length);   // every training row constant: no shape to start from
        double[] f = Standardized(initial);
        var objective = new SupervisedQuantileObjective(runs, labels.ToArray(), outputs, options.L2Regularization, options.MaxDegreeOfParallelism);
        var weights = new double[outputs * length];
        var bias = new double[outputs];
        var trace = new List<double> { WeightStep(objective, weights, bias, f, options) };
        int alternations = 0;
        double step = 1;
        while (alternations < options.Alternations)
        {
            double before = trace[^1];
            trace.Add(QuantileStep(objective, weights, bias, f, options, ref step));
            trace.Add(WeightStep(objective, weights, bias, f, options));
            alternations++;
            if (before - trace[^1] <= options.Tolerance * Math.Max(1, Math.Abs(trace[^1]))) break;
        }
        return new SupervisedQuantileModel(f, weights, bias, trace.ToArray(), alternations);
    }

    /// <summary>f − mean(f), scaled to ‖f‖² = n.</summary>
    internal static double[] Standardized(ReadOnlySpan<double> f)
    {
        int n = f.Length;
        double mean = 0;
        foreach (double v in f) mean += v;
        mean /= n;
        var result = new double[n];
        for (int k = 0; k < n; k++) result[k] = f[k] - mean;
        double norm = Math.Sqrt(SpanMath.Dot(result, result));
        if (norm > 0) for (int k = 0; k < n; k++) result[k] *= Math.Sqrt(n) / norm;
        return result;
    }

    /// <summary>
    /// The Euclidean projection onto C = {non-decreasing, Σ = 0, ‖·‖² ≤ n}, in place: C is the cone K ∩ {Σ = 0} (K the
    /// non-decreasing vectors, which contains the constants) cut by a ball around 0, so its projection is the cone's
    /// (centre, then PAV, which keeps the mean) shrunk onto the ball.
    /// </summary>
    internal static void Project(Span<double> f)
    {
        int n = f.Length;
        double mean = 0;
        foreach (double v in f) mean += v;
        mean /= n;
        // PAV solves the non-increasing problem: reverse, project, reverse back.
        var reversed = new double[n];
        for (int k = 0; k < n; k++) reversed[k] = f[n - 1 - k] - mean;
        var solution = new double[n];
        IsotonicRegression.L2(reversed, solution);
        double squared = 0;
        for (int k = 0; k < n; k++)
        {
            f[k] = solution[n - 1 - k];
            squared += f[k] * f[k];
        }
        if (squared > n)
        {
            double scale = Math.Sqrt(n / squared);
            for (int k = 0; k < n; k++) f[k] *= scale;
        }
    }

    /// <summary>L-BFGS in (W, b) from the current point; returns the objective.</summary>
    private static double WeightStep(SupervisedQuantileObjective objective, double[] weights, double[] bias, double[] f, SupervisedQuantileOptions options)
    {
        int size = weights.Length, k = bias.Length;
        var theta = new double[size + k];
        weights.CopyTo(theta, 0);
        bias.CopyTo(theta, size);
        var w = new double[size];
        var b = new double[k];
        double value = Lbfgs.Minimize((x, gradient) =>
        {
            Array.Copy(x, w, size);
            Array.Copy(x, size, b, 0, k);
            return objective.Evaluate(w, b, f, SupervisedQuantileObjective.Gradient.Weights, gradient);
        }, theta, options.WeightIterations, options.Tolerance);
        Array.Copy(theta, weights, size);
        Array.Copy(theta, size, bias, 0, k);
        return value;
    }

    /// <summary>
    /// Projected gradient in (f, b) from the current point, f kept in C: a trial step is accepted when it passes the
    /// sufficient-decrease test J(x⁺) ≤ J(x) + ⟨∇J, x⁺ − x⟩ + ‖x⁺ − x‖²/(2t) and does not raise J; the step t halves on
    /// rejection and doubles after an acceptance. Returns the objective.
    /// </summary>
    private static double QuantileStep(SupervisedQuantileObjective objective, double[] weights, double[] bias, double[] f,
        SupervisedQuantileOptions options, ref double step)
    {
        int n = f.Length, k = bias.Length;
        var gradient = new double[n + k];
        var trialGradient = new double[n + k];
        var trialF = new double[n];
        var trialB = new double[k];
        double value = objective.Evaluate(weights, bias, f, SupervisedQuantileObjective.Gradient.Quantiles, gradient);
        for (int iteration = 0; iteration < options.QuantileIterations; iteration++)
        {
            bool accepted = false;
            double next = value, moved = 0;
            for (int halving = 0; halving < 60 && !accepted; halving++)
            {
                for (int i = 0; i < n; i++) trialF[i] = f[i] - step * gradient[i];
                Project(trialF);
                for (int c = 0; c < k; c++) trialB[c] = bias[c] - step * gradient[n + c];
                double linear = 0;
                moved = 0;
                for (int i = 0; i < n; i++)
                {
                    double d = trialF[i] - f[i];
                    linear += gradient[i] * d;
                    moved += d * d;
                }
                for (int c = 0; c < k; c++)
                {
                    double d = trialB[c] - bias[c];
                    linear += gradient[n + c] * d;
                    moved += d * d;
                }
                if (moved == 0) return value;   // a fixed point of the projected step: the f-step's minimum
                next = objective.Evaluate(weights, trialB, trialF, SupervisedQuantileObjective.Gradient.Quantiles, trialGradient);
                accepted = next <= value && next <= value + linear + moved / (2 * step);
                if (!accepted) step *= 0.5;
            }
            if (!accepted) break;
            double decrease = value - next;
            Array.Copy(trialF, f, n);
            Array.Copy(trialB, bias, k);
            Array.Copy(trialGradient, gradient, n + k);
            value = next;
            // Stop when the gradient mapping (x − x⁺)/t is small or the objective stalls.
            if (Math.Sqrt(moved) / step <= options.Tolerance * Math.Max(1, Math.Abs(value))
                || decrease <= 1e-3 * options.Tolerance * Math.Max(1, Math.Abs(value))) break;
            step *= 2;
        }
        return value;
    }
}
