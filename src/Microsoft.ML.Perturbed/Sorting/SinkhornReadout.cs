using System.Numerics.Tensors;

namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Reads a <see cref="SinkhornOutput"/> off the plan P, and its adjoint. Ranks, CDF and quantile normalization are
/// k·a⁻¹ ⊙ P·R (R = cumsum(b), or the target values f; k = n for ranks, else 1); sorts and the quantile are
/// b⁻¹ ⊙ Pᵀx. A converged row is read with the exact masses a and b. A row stopped at the cap is read with its own row
/// masses (P1)ᵢ (sorts: the column masses Pᵀ1) — a barycentre of the read-out values, so it stays in range after any
/// number of iterations; the adjoint differentiates that read-out. Immutable and shared by every thread.
/// </summary>
internal sealed class SinkhornReadout(SinkhornOutput output, double sign, SinkhornProblem problem)
{
    /// <summary>P (<c>w.Plan</c>) and x (<c>w.Signed</c>) → <c>w.Output</c>, keeping the masses it divided by.</summary>
    public void Forward(SinkhornWorkspace w)
    {
        int n = problem.N, m = problem.M;
        double[] p = w.Plan, x = w.Signed;
        double k = output == SinkhornOutput.Rank ? n : 1;   // ranks are n·CDF
        double[] mass = w.RowMass;
        switch (output)
        {
            case SinkhornOutput.Rank:
            case SinkhornOutput.Cdf:
            case SinkhornOutput.QuantileNormalize:
                // A converged row is read with a⁻¹ = n (its mass is a within the tolerance). A row stopped at the cap is
                // read with its own mass rᵢ = Σⱼ Pᵢⱼ (the last update fixed only the columns): a barycentre of the
                // read-out values, so ranks stay in [n·b₁, n], CDFs in [b₁, 1] and normalized values in [min f, max f].
                double[] readout = Readout;
                for (int i = 0; i < n; i++)
                {
                    ReadOnlySpan<double> row = p.AsSpan(i * m, m);
                    if (w.Capped) mass[i] = SpanMath.Sum(row);
                    w.Output[i] = w.Capped ? k * SpanMath.Dot(row, readout) / mass[i] : k * n * SpanMath.Dot(row, readout);
                }
                break;
            case SinkhornOutput.Sort:
            case SinkhornOutput.Quantile:
                // Σᵢ Pᵢⱼxᵢ/bⱼ: the last update fixed the columns, so this is a barycentre of x; a capped row divides by the
                // computed column masses cⱼ = Σᵢ Pᵢⱼ (bⱼ up to rounding, which at ε near MinEpsilon reaches 1e-10).
                Array.Clear(w.Sorted);
                for (int i = 0; i < n; i++) SpanMath.AddScaled(w.Sorted, p.AsSpan(i * m, m), x[i]);   // Σᵢ Pᵢⱼxᵢ
                Span<double> columns = w.ColumnMass;
                if (w.Capped)
                {
                    columns.Clear();
                    for (int i = 0; i < n; i++) SpanMath.AddScaled(columns, p.AsSpan(i * m, m), 1);
                }
                else
                {
                    problem.Weights.CopyTo(columns);
                }
                for (int j = 0; j < m; j++) w.Sorted[j] /= columns[j];
                if (output == SinkhornOutput.Sort)
                {
                    for (int j = 0; j < m; j++) w.Output[j] = sign * w.Sorted[j];
                }
                else
                {
                    w.Output[0] = sign * w.Sorted[1];
                }
                break;
            default:
                throw new InvalidOperationException($"Unknown Sinkhorn output {output}.");
        }
    }

    /// <summary>
    /// The cotangent (<c>w.Direction</c>) → P̄ (<c>w.PlanBar</c>, n × m) and the direct dependence of sorted values on x
    /// (<c>w.SignedBar</c>, overwritten), after <see cref="Forward"/> on the same row.
    /// </summary>
    public void Backward(SinkhornWorkspace w)
    {
        int n = problem.N, m = problem.M;
        double[] p = w.Plan, x = w.Signed, pBar = w.PlanBar, xBar = w.SignedBar, g = w.Direction, mass = w.RowMass;
        double k = output == SinkhornOutput.Rank ? n : 1;
        Array.Clear(xBar);
        switch (output)
        {
            case SinkhornOutput.Rank:
            case SinkhornOutput.Cdf:
            case SinkhornOutput.QuantileNormalize:
                // outᵢ = k·⟨Pᵢ, R⟩/rᵢ: ∂outᵢ/∂Pᵢⱼ = (k·Rⱼ − outᵢ)/rᵢ with rᵢ = Σⱼ Pᵢⱼ (capped), or k·n·Rⱼ with rᵢ = a fixed.
                double[] readout = Readout;
                for (int i = 0; i < n; i++)
                {
                    Span<double> row = pBar.AsSpan(i * m, m);
                    double scale = w.Capped ? k / mass[i] : k * n;
                    TensorPrimitives.Multiply(readout, scale * g[i], row);
                    if (w.Capped) TensorPrimitives.Add(row, -g[i] * w.Output[i] / mass[i], row);
                }
                break;
            case SinkhornOutput.Sort:
            case SinkhornOutput.Quantile:
                // sortedⱼ = Σᵢ Pᵢⱼxᵢ/cⱼ: ∂/∂Pᵢⱼ = (xᵢ − sortedⱼ)/cⱼ (cⱼ = bⱼ fixed when converged: xᵢ/bⱼ), ∂/∂xᵢ = Pᵢⱼ/cⱼ.
                double[] sortedBar = w.SortedBar;   // ±gⱼ/cⱼ
                for (int j = 0; j < m; j++)
                {
                    double gj = output == SinkhornOutput.Sort ? g[j] : j == 1 ? g[0] : 0;
                    sortedBar[j] = sign * gj / w.ColumnMass[j];
                }
                for (int i = 0; i < n; i++)
                {
                    Span<double> row = pBar.AsSpan(i * m, m);
                    TensorPrimitives.Multiply(sortedBar, x[i], row);
                    if (w.Capped) SpanMath.AddScaledProduct(row, sortedBar, w.Sorted, -1);
                    xBar[i] = SpanMath.Dot(p.AsSpan(i * m, m), sortedBar);
                }
                break;
            default:
                throw new InvalidOperationException($"Unknown Sinkhorn output {output}.");
        }
    }

    /// <summary>R: the target values for quantile normalization, cumsum(b) for ranks and CDFs.</summary>
    private double[] Readout => output == SinkhornOutput.QuantileNormalize ? problem.Values : problem.Cumulative;
}
