using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// Implicit against unrolled differentiation of Sinkhorn soft ranks (Cuturi, Teboul &amp; Vert 2019; issue 25 item 3):
/// the cost of the forward pass with each VJP against the number of targets m and ε (which sets the iteration
/// count), how far each is from the converged derivative as the tolerance falls, and the implicit VJP against central
/// differences of the converged forward pass. Rows of n = 100 standard normal scores, one thread, thread CPU time (best of
/// seven, interleaved); the BenchmarkDotNet version of the timings is <c>SinkhornImplicitBenchmarks</c>.
/// </summary>
public static class SinkhornImplicitExperiment
{
    /// <summary>The tolerance of the timing table (the benchmark's).</summary>
    public const double TimingTolerance = 1e-6;

    public static IReadOnlyList<SinkhornImplicitCell> Run(bool quick, string outDir, TextWriter log)
    {
        int n = quick ? 20 : 100, rows = quick ? 2 : 8, reps = quick ? 1 : 7;
        int[] targets = quick ? [5, 20] : [5, 20, 100];
        double[] epsilons = quick ? [0.1, 0.01] : [0.1, 0.03, 0.01, 0.003, 0.001];
        double[] tolerances = quick ? [1e-2, 1e-6, 1e-10] : [1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12];
        int accuracyTargets = quick ? 5 : 20;
        string load = Load();
        var rng = new System.Random(2019);
        double[] x = Enumerable.Range(0, rows * n).Select(_ => Normal(rng)).ToArray();
        double[] g = Enumerable.Range(0, rows * n).Select(_ => rng.NextDouble() - 0.5).ToArray();

        var timing = new List<SinkhornImplicitCell>();
        foreach (int m in targets)
        foreach (double eps in epsilons)
        {
            SinkhornImplicitCell cell = Measure(n, m, eps, TimingTolerance, x, g, rows, reps, converged: false);
            timing.Add(cell);
            log.WriteLine($"m {m}, ε {eps}: {cell.MeanIterations:F0} iterations, forward {cell.ForwardMs:F3} ms, forward+VJP {cell.ForwardUnrolledMs:F3} ms unrolled, {cell.ForwardImplicitMs:F3} ms implicit, gap {cell.GapToUnrolled:E1}");
        }
        var accuracy = new List<SinkhornImplicitCell>();
        foreach (double tolerance in tolerances)
        {
            SinkhornImplicitCell cell = Measure(n, accuracyTargets, 0.01, tolerance, x, g, rows, reps, converged: true);
            accuracy.Add(cell);
            log.WriteLine($"tolerance {tolerance}: gaps to the converged derivative {cell.ImplicitGapToConverged:E1} implicit, {cell.UnrolledGapToConverged:E1} unrolled");
        }
        var differences = new List<SinkhornImplicitCell>();
        foreach (int m in targets)
        {
            SinkhornImplicitCell cell = FiniteDifferences(n, m, 0.01, x.AsSpan(0, n).ToArray(), g.AsSpan(0, n).ToArray());
            differences.Add(cell);
            log.WriteLine($"m {m}: implicit VJP against central differences {cell.FiniteDifferenceGap:E1}");
        }

        Directory.CreateDirectory(outDir);
        string suffix = quick ? "-quick" : "";
        File.WriteAllText(Path.Combine(outDir, $"sinkhorn_implicit{suffix}.md"), Table(timing, accuracy, differences, quick, n, rows, accuracyTargets, load)
            + Report.FigureLinks(suffix, "sinkhorn_implicit"));
        Report.Lines(Path.Combine(outDir, $"sinkhorn_implicit{suffix}.png"), $"Sinkhorn forward + VJP, n = {n}, tolerance {Tolerance(TimingTolerance)}",
            "log10 mean iterations per row", "log10 ms per row",
            targets.SelectMany(m => new[] { (false, m), (true, m) }).Select(s =>
            {
                SinkhornImplicitCell[] line = timing.Where(c => c.M == s.m).OrderBy(c => c.MeanIterations).ToArray();
                return ($"{(s.Item1 ? "implicit" : "unrolled")}, m = {s.m}", line.Select(c => Math.Log10(c.MeanIterations)).ToArray(),
                    line.Select(c => Math.Log10(s.Item1 ? c.ForwardImplicitMs : c.ForwardUnrolledMs)).ToArray());
            }));
        return [.. timing, .. accuracy, .. differences];
    }

    private static SinkhornSorting Operator(int n, int m, double eps, double tolerance, bool implicitVjp) => new(n, new SinkhornOptions
    {
        Epsilon = eps, Targets = m, Tolerance = tolerance, MaxIterations = 100_000, ImplicitDifferentiation = implicitVjp, MaxDegreeOfParallelism = 1,
    });

    /// <summary>Times the forward pass and both VJPs over the rows, and the gaps between the VJPs.</summary>
    private static SinkhornImplicitCell Measure(int n, int m, double eps, double tolerance, double[] x, double[] g, int rows, int reps, bool converged)
    {
        SinkhornSorting unrolled = Operator(n, m, eps, tolerance, false), implicitVjp = Operator(n, m, eps, tolerance, true);
        double[] y = new double[x.Length], vu = new double[x.Length], vi = new double[x.Length];
        long fallbacks = implicitVjp.ForwardVjpWithReport(x, g, y, vi).ImplicitFallbackRows;
        unrolled.ForwardVjp(x, g, y, vu);
        double iterations = Enumerable.Range(0, rows).Average(r => (double)unrolled.ForwardWithReport(x.AsSpan(r * n, n), new double[n]).MostIterations);
        // Interleaved, best of the repetitions: the three see the same spells of load on a shared machine.
        double forward = double.MaxValue, unrolledVjp = double.MaxValue, implicitMs = double.MaxValue;
        for (int r = 0; r < reps; r++)
        {
            forward = Math.Min(forward, Time(() => unrolled.Forward(x, y)) / rows);
            unrolledVjp = Math.Min(unrolledVjp, Time(() => unrolled.ForwardVjp(x, g, y, vu)) / rows);
            implicitMs = Math.Min(implicitMs, Time(() => implicitVjp.ForwardVjp(x, g, y, vi)) / rows);
        }
        double toConvergedUnrolled = double.NaN, toConvergedImplicit = double.NaN;
        if (converged)
        {
            double[] reference = new double[x.Length];
            Operator(n, m, eps, 1e-13, false).ForwardVjp(x, g, y, reference);
            toConvergedUnrolled = Gap(vu, reference);
            toConvergedImplicit = Gap(vi, reference);
        }
        return new SinkhornImplicitCell(n, m, eps, tolerance, iterations, fallbacks, forward, unrolledVjp, implicitMs, Gap(vi, vu),
            toConvergedUnrolled, toConvergedImplicit, double.NaN);
    }

    /// <summary>The implicit VJP of one row at tolerance 1e-13 against central differences (h = 1e-6) of its forward pass.</summary>
    private static SinkhornImplicitCell FiniteDifferences(int n, int m, double eps, double[] x, double[] g)
    {
        const double h = 1e-6, tolerance = 1e-13;
        SinkhornSorting op = Operator(n, m, eps, tolerance, true);
        double[] y = new double[n], v = new double[n], fd = new double[n], plus = new double[n], minus = new double[n];
        SinkhornConvergence report = op.ForwardVjpWithReport(x, g, y, v);
        for (int k = 0; k < n; k++)
        {
            double[] xp = (double[])x.Clone(), xm = (double[])x.Clone();
            xp[k] += h;
            xm[k] -= h;
            op.Forward(xp, plus);
            op.Forward(xm, minus);
            double sum = 0;
            for (int i = 0; i < n; i++) sum += g[i] * (plus[i] - minus[i]);
            fd[k] = sum / (xp[k] - xm[k]);
        }
        return new SinkhornImplicitCell(n, m, eps, tolerance, report.MostIterations, report.ImplicitFallbackRows, double.NaN, double.NaN, double.NaN,
            double.NaN, double.NaN, double.NaN, Gap(v, fd));
    }

    /// <summary>
    /// Milliseconds per call, calling it again until 10 ms have passed: the calling thread's CPU time on Linux (the
    /// operators run on the calling thread at one thread), which leaves out the time spent waiting for a core on a shared
    /// machine; elapsed time elsewhere.
    /// </summary>
    private static double Time(Action action)
    {
        double start = Clock();
        int calls = 0;
        double elapsed;
        do
        {
            action();
            calls++;
            elapsed = Clock() - start;
        }
        while (elapsed < 10);
        return elapsed / calls;
    }

    /// <summary>Which clock <see cref="Time"/> reads, for the table.</summary>
    private static string ClockName => OperatingSystem.IsLinux() ? "thread CPU time, clock_gettime(CLOCK_THREAD_CPUTIME_ID)" : "elapsed time (Stopwatch)";

    private static double Clock() => Microsoft.ML.Perturbed.Benchmarks.ThreadClock.Milliseconds();

    /// <summary>‖a − b‖/‖b‖.</summary>
    private static double Gap(double[] a, double[] b)
    {
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++)
        {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.Sqrt(num / den);
    }

    /// <summary>The one-minute load average (Linux), or "unknown".</summary>
    private static string Load()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private static string Tolerance(double t) => t.ToString("0.##E+0", CultureInfo.InvariantCulture).Replace("E", "e").Replace("+", "");

    private static double Normal(System.Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static string Table(List<SinkhornImplicitCell> timing, List<SinkhornImplicitCell> accuracy, List<SinkhornImplicitCell> differences, bool quick, int n, int rows, int accuracyTargets, string load)
    {
        string F(double v, string format) => double.IsNaN(v) ? "—" : v.ToString(format, CultureInfo.InvariantCulture);
        var s = new StringBuilder();
        s.AppendLine("# Sinkhorn: implicit against unrolled differentiation");
        s.AppendLine();
        s.AppendLine(Report.ProducedBy("sinkhornimplicit" + (quick ? " --quick" : "")));
        s.AppendLine();
        s.AppendLine($"Soft ranks (`SinkhornSorting`, logistic squashing, uniform targets) of {rows} rows of n = {n} standard normal scores, a random");
        s.AppendLine("cotangent, one thread, double precision; milliseconds per row of `Forward` and of `ForwardVjp` (forward pass and VJP),");
        s.AppendLine($"best of seven interleaved runs of at least 10 ms each ({ClockName}; {Environment.ProcessorCount} cores, shared: load average {load} when the run began). The implicit VJP solves one");
        s.AppendLine("m × m Schur system per row (`SinkhornOptions.ImplicitDifferentiation`); rows stopped at the cap of 100 000 iterations");
        s.AppendLine("are unrolled instead (\"fallbacks\"). Gaps are ‖a − b‖/‖b‖ over all rows.");
        s.AppendLine();
        s.AppendLine($"## Cost against m and ε (tolerance {Tolerance(TimingTolerance)})");
        s.AppendLine();
        s.AppendLine("\"VJP alone\" is the difference of two timings; a difference below 0.01 ms is within the noise and shown as \"≈ 0\".");
        s.AppendLine();
        s.AppendLine("| m | ε | iterations (mean) | fallbacks | forward ms | forward+VJP unrolled ms | forward+VJP implicit ms | unrolled / implicit | VJP alone, unrolled ms | VJP alone, implicit ms | implicit vs unrolled |");
        s.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        string Alone(double total, double forward) => total - forward < 0.01 ? "≈ 0" : (total - forward).ToString("F3", CultureInfo.InvariantCulture);
        foreach (SinkhornImplicitCell c in timing)
        {
            s.AppendLine($"| {c.M} | {c.Epsilon:G} | {c.MeanIterations:F0} | {c.FallbackRows} | {F(c.ForwardMs, "F3")} | {F(c.ForwardUnrolledMs, "F3")} | {F(c.ForwardImplicitMs, "F3")} | {F(c.ForwardUnrolledMs / c.ForwardImplicitMs, "F2")}× | {Alone(c.ForwardUnrolledMs, c.ForwardMs)} | {Alone(c.ForwardImplicitMs, c.ForwardMs)} | {F(c.GapToUnrolled, "E1")} |");
        }
        s.AppendLine();
        s.AppendLine($"## Accuracy against the tolerance (m = {accuracyTargets}, ε = 0.01)");
        s.AppendLine();
        s.AppendLine("The converged derivative is the unrolled VJP at tolerance 1e-13. The unrolled VJP is the exact derivative of what was");
        s.AppendLine("computed, the implicit one the derivative of the operator at exact marginals evaluated at the computed plan.");
        s.AppendLine();
        s.AppendLine("| tolerance | iterations (mean) | implicit vs converged | unrolled vs converged | implicit vs unrolled |");
        s.AppendLine("|---|---|---|---|---|");
        foreach (SinkhornImplicitCell c in accuracy)
        {
            s.AppendLine($"| {Tolerance(c.Tolerance)} | {c.MeanIterations:F0} | {F(c.ImplicitGapToConverged, "E1")} | {F(c.UnrolledGapToConverged, "E1")} | {F(c.GapToUnrolled, "E1")} |");
        }
        s.AppendLine();
        s.AppendLine("## Implicit VJP against central differences (ε = 0.01, tolerance 1e-13, h = 1e-6, first row)");
        s.AppendLine();
        s.AppendLine("| m | iterations | implicit vs central differences |");
        s.AppendLine("|---|---|---|");
        foreach (SinkhornImplicitCell c in differences)
        {
            s.AppendLine($"| {c.M} | {c.MeanIterations:F0} | {F(c.FiniteDifferenceGap, "E1")} |");
        }
        return s.ToString();
    }
}
