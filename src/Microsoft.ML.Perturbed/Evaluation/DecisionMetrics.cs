using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Evaluation;

/// <summary>Decision quality of predicted scores or costs, measured with the true ones (PyEPO's definitions).</summary>
/// <param name="Regret">Mean regret per row: ⟨c, y*(ĉ)⟩ − ⟨c, y*(c)⟩ for a cost oracle, ⟨s, y*(s)⟩ − ⟨s, y*(ŝ)⟩ for a score oracle (≥ 0).</param>
/// <param name="NormalizedRegret">Σ regret / Σ |z*| over the rows, z* = the true optimal objective (PyEPO's normalized regret).</param>
/// <param name="ExactSolutionRate">Fraction of rows whose decision equals the true optimal solution.</param>
/// <param name="ObjectiveRatio">Σ ⟨c, y*(ĉ)⟩ / Σ z*: the objective achieved relative to the optimum (≥ 1 for costs, ≤ 1 for scores).</param>
/// <param name="Rows">Rows evaluated.</param>
public readonly record struct DecisionMetrics(double Regret, double NormalizedRegret, double ExactSolutionRate, double ObjectiveRatio, long Rows)
{
    /// <summary>
    /// Solves the oracle on the predicted and the true inputs of every row and compares the decisions under the true ones.
    /// </summary>
    /// <param name="oracle">The oracle (its <see cref="Oracle.Sense"/> says whether the inputs are scores or costs).</param>
    /// <param name="predicted">Predicted inputs ĉ, <c>[n × d]</c>.</param>
    /// <param name="truth">True inputs c, <c>[n × d]</c>; the oracle's solutions must live in the same space (d′ = d).</param>
    public static DecisionMetrics Evaluate(Oracle oracle, ReadOnlySpan<float> predicted, ReadOnlySpan<float> truth)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        int d = oracle.Dimension;
        if (oracle.OutputDimension != d)
        {
            throw new ArgumentException($"Regret compares decisions under the true costs; {oracle.Name} maps {d} inputs to {oracle.OutputDimension} values.", nameof(oracle));
        }
        int n = Guard.RowCount(predicted.Length, d, nameof(predicted));
        Guard.Rows(truth.Length, n, d, nameof(truth));
        var decided = new float[n * d];
        var optimal = new float[n * d];
        oracle.Solve(predicted, decided);
        oracle.Solve(truth, optimal);
        double regret = 0, absOptimum = 0, achieved = 0, optimum = 0;
        long exact = 0;
        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<float> c = truth.Slice(r * d, d), yHat = decided.AsSpan(r * d, d), yStar = optimal.AsSpan(r * d, d);
            double z = Dot(c, yStar), a = Dot(c, yHat);
            regret += oracle.Sign * (z - a);
            absOptimum += Math.Abs(z);
            achieved += a;
            optimum += z;
            if (yHat.SequenceEqual(yStar)) exact++;
        }
        return new DecisionMetrics(regret / n, absOptimum > 0 ? regret / absOptimum : 0, (double)exact / n, optimum != 0 ? achieved / optimum : 1, n);
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }
}
