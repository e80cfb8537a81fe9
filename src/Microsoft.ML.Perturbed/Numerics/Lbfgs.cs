namespace Microsoft.ML.Perturbed.Numerics;

/// <summary>
/// Limited-memory BFGS (Nocedal &amp; Wright, Algorithm 7.4, two-loop recursion) with a backtracking Armijo line search,
/// for smooth convex objectives of a few thousand parameters. Every accepted step lowers the value (never raises it), so
/// a caller that starts from its current point can only improve; serial and deterministic.
/// </summary>
internal static class Lbfgs
{
    /// <summary>Value at x, with its gradient written into the second argument.</summary>
    public delegate double Objective(double[] x, double[] gradient);

    /// <summary>
    /// Minimizes from <paramref name="x"/> (updated in place) and returns the last value. Stops after
    /// <paramref name="maxIterations"/> iterations, when ‖∇‖∞ ≤ <paramref name="tolerance"/> × max(1, |value|), when an
    /// iteration lowers the value by less than <paramref name="tolerance"/> × 1e-3 × max(1, |value|), or when the line
    /// search finds no decrease.
    /// </summary>
    public static double Minimize(Objective objective, double[] x, int maxIterations, double tolerance, int memory = 10)
    {
        int d = x.Length;
        var g = new double[d];
        var direction = new double[d];
        var trial = new double[d];
        var trialGradient = new double[d];
        var sNew = new double[d];
        var yNew = new double[d];
        var s = new double[memory][];
        var y = new double[memory][];
        var rho = new double[memory];
        var alpha = new double[memory];
        for (int i = 0; i < memory; i++)
        {
            s[i] = new double[d];
            y[i] = new double[d];
        }
        double value = objective(x, g);
        int stored = 0, newest = -1;
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            if (MaxAbs(g) <= tolerance * Math.Max(1, Math.Abs(value))) break;
            // Two-loop recursion: direction = −H g.
            Array.Copy(g, direction, d);
            for (int j = 0; j < stored; j++)
            {
                int i = (newest - j + memory) % memory;
                alpha[i] = rho[i] * SpanMath.Dot(s[i], direction);
                SpanMath.AddScaled(direction, y[i], -alpha[i]);
            }
            double gamma = stored > 0 ? SpanMath.Dot(s[newest], y[newest]) / SpanMath.Dot(y[newest], y[newest]) : 1 / Math.Max(1, Norm(g));
            for (int k = 0; k < d; k++) direction[k] *= gamma;
            for (int j = stored - 1; j >= 0; j--)
            {
                int i = (newest - j + memory) % memory;
                double beta = rho[i] * SpanMath.Dot(y[i], direction);
                SpanMath.AddScaled(direction, s[i], alpha[i] - beta);
            }
            for (int k = 0; k < d; k++) direction[k] = -direction[k];
            double slope = SpanMath.Dot(g, direction);
            if (!(slope < 0))
            {
                // Not a descent direction (rounding): restart from steepest descent.
                stored = 0;
                for (int k = 0; k < d; k++) direction[k] = -g[k] / Math.Max(1, Norm(g));
                slope = SpanMath.Dot(g, direction);
                if (!(slope < 0)) break;
            }
            double step = 1, next = double.NaN;
            bool accepted = false;
            for (int halving = 0; halving < 60; halving++, step *= 0.5)
            {
                for (int k = 0; k < d; k++) trial[k] = x[k] + step * direction[k];
                next = objective(trial, trialGradient);
                if (next <= value + 1e-4 * step * slope)
                {
                    accepted = true;
                    break;
                }
            }
            if (!accepted) break;
            for (int k = 0; k < d; k++)
            {
                sNew[k] = trial[k] - x[k];
                yNew[k] = trialGradient[k] - g[k];
            }
            double curvature = SpanMath.Dot(sNew, yNew);
            if (curvature > 1e-12 * SpanMath.Dot(yNew, yNew) && curvature > 0)
            {
                // Keep the pair (the newest replaces the oldest once memory is full); a pair without positive curvature is dropped.
                newest = (newest + 1) % memory;
                Array.Copy(sNew, s[newest], d);
                Array.Copy(yNew, y[newest], d);
                rho[newest] = 1 / curvature;
                stored = Math.Min(stored + 1, memory);
            }
            Array.Copy(trial, x, d);   // exactly the point whose value was accepted
            double decrease = value - next;
            Array.Copy(trialGradient, g, d);
            value = next;
            if (decrease <= 1e-3 * tolerance * Math.Max(1, Math.Abs(value))) break;
        }
        return value;
    }

    private static double MaxAbs(double[] v)
    {
        double m = 0;
        foreach (double a in v) m = Math.Max(m, Math.Abs(a));
        return m;
    }

    private static double Norm(double[] v) => Math.Sqrt(SpanMath.Dot(v, v));
}
