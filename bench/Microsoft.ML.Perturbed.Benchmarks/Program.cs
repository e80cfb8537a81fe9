using System.Diagnostics;
using BenchmarkDotNet.Running;
using Microsoft.ML;
using Microsoft.ML.Perturbed;
using Microsoft.ML.Perturbed.Benchmarks;

// `dotnet run -c Release -- quick` prints a Stopwatch probe of the reference shape for development;
// anything else goes to BenchmarkDotNet (e.g. `--filter *` or `--filter *Scaling*`).
if (args.Length > 0 && args[0] == "sweep")
{
    return SweepBenchmark.Run(args);
}
if (args.Length > 0 && args[0] == "scale")
{
    return Microsoft.ML.Perturbed.Benchmarks.Scale.ScaleBenchmark.Run(args);
}
if (args.Length > 0 && args[0] == "labelranking")
{
    return LabelRankingExperiment.Run(args);
}
if (args.Length > 0 && args[0] == "labelranking-directloss")
{
    return DirectLossSweep.Run(args);
}
if (args.Length > 0 && args[0] == "alloc")
{
    var theta = Heads.Scores(64, 100);
    var y = new float[64 * 100];
    foreach (int threads in new[] { 1, -1 })
    {
        var opt = new PerturbedOptimizer(Heads.Create("Argmax", 100), new PerturbedOptimizerOptions { Samples = 1, MaxDegreeOfParallelism = threads });
        for (int i = 0; i < 1000; i++) opt.Forward(theta, y);
        foreach (int calls in new[] { 1, 10, 1000, 10_000 })
        {
            long before = GC.GetTotalAllocatedBytes(true), mine = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < calls; i++) opt.Forward(theta, y);
            long all = GC.GetTotalAllocatedBytes(true) - before, caller = GC.GetAllocatedBytesForCurrentThread() - mine;
            Console.WriteLine($"threads {threads}, {calls} calls: {all} B in all threads, {caller} B on the caller");
        }
    }
    return 0;
}
if (args.Length > 0 && args[0] == "sorts")
{
    // Short-row key sorts side by side: the network, the radix sort and introsort, ns per row.
    foreach (int n in new[] { 8, 16, 32, 64, 100, 128, 200, 256, 8, 16, 32, 64, 100, 128, 200, 256 })
    {
        const int rows = 4096;
        var theta = Heads.Scores(rows, n);
        var keys = new ulong[rows * n];
        void Fill() { for (int r = 0; r < rows; r++) Microsoft.ML.Perturbed.Oracles.SortKeys.Fill(theta.AsSpan(r * n, n), keys.AsSpan(r * n, n)); }
        double T(Action<Span<ulong>> sort)
        {
            double best = double.MaxValue;
            for (int rep = 0; rep < 7; rep++)
            {
                Fill();
                var sw = Stopwatch.StartNew();
                for (int r = 0; r < rows; r++) sort(keys.AsSpan(r * n, n));
                best = Math.Min(best, sw.Elapsed.TotalMilliseconds * 1e6 / rows);
            }
            return best;
        }
        double net = Microsoft.ML.Perturbed.Oracles.KeySortingNetwork.IsSupported ? T(k => Microsoft.ML.Perturbed.Oracles.KeySortingNetwork.Sort(k)) : double.NaN;
        double radix = T(k => Microsoft.ML.Perturbed.Oracles.SortKeys.RadixSort(k));
        double intro = T(k => k.Sort());
        Console.WriteLine($"n={n,-4} network {net,8:F0} ns  radix {radix,8:F0} ns  introsort {intro,8:F0} ns");
    }
    return 0;
}
if (args.Length > 0 && args[0] == "sinkhornpass")
{
    // One pass of a SoftRank transform over optdigits' 64 pixel columns (5620 rows): the permutahedron against
    // Sinkhorn, through ML.NET with the transform's defaults, and the core operator with the same settings in the
    // scalings and in the log domain (the previous iterations). Interleaved, best of 5, every core.
    string file = args.Length > 1 ? args[1] : Path.Combine("..", "shared", "data", "classification", "optdigits.csv");
    if (!File.Exists(file))
    {
        Console.WriteLine($"skipped: {file} not found");
        return 0;
    }
    var ml = new Microsoft.ML.MLContext(seed: 1);
    var data = ml.Data.LoadFromTextFile(file, [new Microsoft.ML.Data.TextLoader.Column("Features", Microsoft.ML.Data.DataKind.Single, 0, 63)], separatorChar: ',', hasHeader: true);
    data = ml.Data.Cache(data);
    float[] rows = ml.Data.CreateEnumerable<PixelRow>(data, reuseRowObject: false).SelectMany(r => r.Features).ToArray();
    int count = rows.Length / 64;
    var l2 = ml.Transforms.SoftRank("Ranks", "Features").Fit(data);
    var sinkhorn = ml.Transforms.SoftRank("Ranks", "Features", method: Microsoft.ML.Perturbed.Sorting.SoftRankingMethod.Sinkhorn).Fit(data);
    double Pass(Microsoft.ML.ITransformer t)
    {
        var output = t.Transform(data);
        var sw = Stopwatch.StartNew();
        using var cursor = output.GetRowCursor(output.Schema.Where(c => c.Name == "Ranks"));
        var getter = cursor.GetGetter<Microsoft.ML.Data.VBuffer<float>>(output.Schema["Ranks"]);
        var buffer = default(Microsoft.ML.Data.VBuffer<float>);
        while (cursor.MoveNext()) getter(ref buffer);
        return sw.Elapsed.TotalMilliseconds;
    }
    var options = new Microsoft.ML.Perturbed.Sorting.SinkhornOptions { Epsilon = 1, Tolerance = 1e-4, MaxIterations = 1000 };
    var scalings = new Microsoft.ML.Perturbed.Sorting.SinkhornSorting(64, options);
    var logDomain = new Microsoft.ML.Perturbed.Sorting.SinkhornSorting(64, options, p => new Microsoft.ML.Perturbed.Sorting.LogDomainSinkhornSolver(p));
    var rank = new Microsoft.ML.Perturbed.Sorting.SoftRank(64, 1.0, Microsoft.ML.Perturbed.Sorting.SoftRegularization.L2);
    var result = new float[rows.Length];
    double Time(Action a) { var sw = Stopwatch.StartNew(); a(); return sw.Elapsed.TotalMilliseconds; }
    double[] best = Enumerable.Repeat(double.MaxValue, 5).ToArray();
    for (int rep = 0; rep < 5; rep++)
    {
        best[0] = Math.Min(best[0], Pass(l2));
        best[1] = Math.Min(best[1], Pass(sinkhorn));
        best[2] = Math.Min(best[2], Time(() => rank.Forward(rows, result)));
        best[3] = Math.Min(best[3], Time(() => scalings.Forward(rows, result)));
        best[4] = Math.Min(best[4], Time(() => logDomain.Forward(rows, result)));
    }
    var c = scalings.ForwardWithReport(rows, result);
    Console.WriteLine($"optdigits {count} rows × 64, {Environment.ProcessorCount} cores; Sinkhorn ε 1, tolerance 1e-4 (rows {c.Rows}, most iterations {c.MostIterations}, capped {c.CappedRows})");
    Console.WriteLine($"ML.NET pass: permutahedron {best[0]:F1} ms, Sinkhorn {best[1]:F1} ms ({best[1] / best[0]:F1}×)");
    Console.WriteLine($"core forward: permutahedron {best[2]:F1} ms, Sinkhorn scalings {best[3]:F1} ms ({best[3] / best[2]:F1}×), Sinkhorn log domain {best[4]:F1} ms ({best[4] / best[2]:F1}×); scalings {best[4] / best[3]:F1}× faster");
    return 0;
}
if (args.Length > 0 && args[0] == "kl")
{
    // Soft rank forward (KL and L2) against sorting the same rows, batch 256, one thread, interleaved, best of 7.
    foreach (int n in new[] { 100, 1000, 100, 1000 })
    {
        const int batch = 256;
        var x = Heads.Scores(batch, n);
        var scratch = new float[x.Length];
        var result = new float[x.Length];
        var kl = new Microsoft.ML.Perturbed.Sorting.SoftRank(n, 1.0, Microsoft.ML.Perturbed.Sorting.SoftRegularization.KL) { MaxDegreeOfParallelism = 1 };
        var l2 = new Microsoft.ML.Perturbed.Sorting.SoftRank(n, 1.0, Microsoft.ML.Perturbed.Sorting.SoftRegularization.L2) { MaxDegreeOfParallelism = 1 };
        double[] best = [double.MaxValue, double.MaxValue, double.MaxValue];
        Action[] work =
        [
            () => { x.CopyTo(scratch, 0); for (int r = 0; r < batch; r++) scratch.AsSpan(r * n, n).Sort(); },
            () => kl.Forward(x, result),
            () => l2.Forward(x, result),
        ];
        for (int rep = 0; rep < 9; rep++)
        {
            for (int w = 0; w < work.Length; w++)
            {
                var sw = Stopwatch.StartNew();
                work[w]();
                best[w] = Math.Min(best[w], sw.Elapsed.TotalMilliseconds);
            }
        }
        Console.WriteLine($"n={n,-5} batch={batch} sort {best[0]:F3} ms  rank KL {best[1]:F3} ms ({best[1] / best[0]:F2}x)  rank L2 {best[2]:F3} ms ({best[2] / best[0]:F2}x)");
    }
    return 0;
}
if (args.Length > 0 && args[0] == "topk")
{
    Microsoft.ML.Perturbed.Benchmarks.TopKSelection.Run();
    return 0;
}
if (args.Length > 0 && args[0] == "peers")
{
    // The cases of bench/peers.sh in a machine-readable form, medians of 7 after a warm-up: the perturbed heads at the
    // PyTorch script's shapes and thread counts (with our bare solves), and soft rank/sort at n = 100, batch 256, one thread.
    static double Median(Action a)
    {
        // Warm-up of at least half a second, so that the JIT's tiering has promoted the hot methods before timing.
        var warm = Stopwatch.StartNew();
        do { a(); } while (warm.ElapsedMilliseconds < 500);
        var times = new double[7];
        for (int i = 0; i < times.Length; i++) { var sw = Stopwatch.StartNew(); a(); times[i] = sw.Elapsed.TotalMilliseconds; }
        Array.Sort(times);
        return times[3];
    }
    foreach (int threads in new[] { 1, 2 })
    {
        foreach ((string name, string head) in new[] { ("argmax", "Argmax"), ("topk10", "TopK10"), ("ranking", "Ranking") })
        {
            foreach ((int d, int batch, int m) in new[] { (100, 256, 10), (100, 256, 100), (1000, 256, 10), (1000, 64, 100), (1000, 256, 100) })
            {
                var oracle = Heads.Create(head, d);
                float[] theta = Heads.Scores(batch, d);
                float[][] noisy = Heads.NoisyCopies(theta, m, 0.5);
                var y = new float[batch * d];
                var opt = new PerturbedOptimizer(oracle, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = m, MaxDegreeOfParallelism = threads });
                double perturbed = Median(() => opt.Forward(theta, y));
                double bare = Median(() => { foreach (float[] x in noisy) oracle.Solve(x, y, threads); });
                Console.WriteLine($"ours perturbed {name} d={d} batch={batch} M={m} threads={threads} perturbed_ms={perturbed:F3} bare_ms={bare:F3}");
            }
        }
    }
    {
        const int n = 100, batch = 256;
        var x = Heads.Scores(batch, n);
        var g = Heads.Scores(batch, n, seed: 3);
        var scratch = new float[x.Length];
        var result = new float[x.Length];
        var vjp = new float[x.Length];
        double sort = Median(() => { x.CopyTo(scratch, 0); for (int r = 0; r < batch; r++) scratch.AsSpan(r * n, n).Sort(); });
        foreach (string op in new[] { "rank", "sort" })
        {
            foreach (string reg in new[] { "l2", "kl" })
            {
                var regularization = reg == "l2" ? Microsoft.ML.Perturbed.Sorting.SoftRegularization.L2 : Microsoft.ML.Perturbed.Sorting.SoftRegularization.KL;
                Microsoft.ML.Perturbed.Sorting.PermutahedronProjection layer = op == "rank"
                    ? new Microsoft.ML.Perturbed.Sorting.SoftRank(n, 1.0, regularization) { MaxDegreeOfParallelism = 1 }
                    : new Microsoft.ML.Perturbed.Sorting.SoftSort(n, 1.0, regularization) { MaxDegreeOfParallelism = 1 };
                double forward = Median(() => layer.Forward(x, result));
                double both = Median(() => layer.ForwardVjp(x, g, result, vjp));
                Console.WriteLine($"ours soft {op} {reg} n={n} batch={batch} threads=1 fwd_ms={forward:F4} fwdbwd_ms={both:F4} sort_ms={sort:F4}");
            }
        }
    }
    return 0;
}
if (args.Length > 0 && args[0] == "parts")
{
    const int d = 1000, reps = 25_600;
    var buf = new float[d];
    var bits = new uint[d];
    var acc = new double[d];
    var theta = Heads.Scores(1, d);
    double T(string name, Action a) { a(); double ns = double.MaxValue; for (int rep = 0; rep < 5; rep++) { double t0 = Microsoft.ML.Perturbed.Benchmarks.ThreadClock.Milliseconds(); a(); ns = Math.Min(ns, (Microsoft.ML.Perturbed.Benchmarks.ThreadClock.Milliseconds() - t0) * 1e6 / (reps * (double)d)); } Console.WriteLine($"{name,-28} {ns:F3} ns/element (best of 5, {Microsoft.ML.Perturbed.Benchmarks.ThreadClock.Name})"); return ns; }
    T("philox bits", () => { for (int r = 0; r < reps; r++) { var s = Microsoft.ML.Perturbed.Random.PhiloxStream.ForSample(1, 0, r, 0); s.NextUInt32(bits); } });
    T("normal sample", () => { for (int r = 0; r < reps; r++) { var s = Microsoft.ML.Perturbed.Random.PhiloxStream.ForSample(1, 0, r, 0); Microsoft.ML.Perturbed.Noise.NoiseDistribution.Normal.Sample(ref s, buf); } });
    T("gumbel sample", () => { for (int r = 0; r < reps; r++) { var s = Microsoft.ML.Perturbed.Random.PhiloxStream.ForSample(1, 0, r, 0); Microsoft.ML.Perturbed.Noise.NoiseDistribution.Gumbel.Sample(ref s, buf); } });
    var argmax = new Microsoft.ML.Perturbed.Oracles.ArgmaxOracle(d);
    T("argmax solve", () => { for (int r = 0; r < reps; r++) argmax.Solve(theta, buf, 1); });
    T("add to double", () => { for (int r = 0; r < reps; r++) Microsoft.ML.Perturbed.Numerics.SpanMath.Add(acc, buf); });
    T("maxmagnitude", () => { for (int r = 0; r < reps; r++) System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(buf); });
    var u = new float[d];
    T("perturb θ+εz, finite check", () => { for (int r = 0; r < reps; r++) Microsoft.ML.Perturbed.Numerics.PerturbationKernels.MultiplyAddAllFinite(buf, 0.5f, theta, u); });
    var topk = Microsoft.ML.Perturbed.Oracles.Oracle.TopK(d, 10);
    T("top-10 solve", () => { for (int r = 0; r < reps; r++) topk.Solve(theta, buf, 1); });
    var batchTheta = Heads.Scores(256, d);
    var batchY = new float[256 * d];
    var perturbed = new PerturbedOptimizer(argmax, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = 100, MaxDegreeOfParallelism = 1 });
    T("perturbed argmax, per sample", () => { for (int r = 0; r < reps / 25_600; r++) perturbed.Forward(batchTheta, batchY); });
    var perturbedTopK = new PerturbedOptimizer(topk, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = 100, MaxDegreeOfParallelism = 1 });
    T("perturbed top-10, per sample", () => { for (int r = 0; r < reps / 25_600; r++) perturbedTopK.Forward(batchTheta, batchY); });
    return 0;
}
if (args.Length > 0 && args[0] == "quick")
{
    foreach ((string head, int d, int batch, int m) in new[] { ("Ranking", 100, 256, 100), ("Argmax", 1000, 256, 100), ("TopK10", 1000, 256, 100), ("Ranking", 1000, 64, 10) })
    {
        var oracle = Heads.Create(head, d);
        float[] theta = Heads.Scores(batch, d);
        float[][] noisy = Heads.NoisyCopies(theta, m, 0.5);
        var y = new float[batch * d];
        foreach (int threads in new[] { 1, -1 })
        {
            var opt = new PerturbedOptimizer(oracle, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = m, MaxDegreeOfParallelism = threads });
            double Time(Action a) { a(); var sw = Stopwatch.StartNew(); int n = 0; while (sw.ElapsedMilliseconds < 1500) { a(); n++; } return sw.Elapsed.TotalMilliseconds / n; }
            double perturbed = Time(() => opt.Forward(theta, y));
            double bare = Time(() => { foreach (float[] x in noisy) oracle.Solve(x, y, threads); });
            Console.WriteLine($"{head,-8} d={d,-5} batch={batch,-4} M={m,-4} threads={threads,-3} perturbed {perturbed,8:F2} ms  bare {bare,8:F2} ms  ratio {perturbed / bare:F2}");
        }
    }
    return 0;
}
BenchmarkSwitcher.FromAssembly(typeof(Heads).Assembly).Run(args);
return 0;

/// <summary>optdigits' pixels as one vector (the "sinkhornpass" mode).</summary>
internal sealed class PixelRow
{
    [Microsoft.ML.Data.VectorType(64)]
    public float[] Features { get; set; } = [];
}
