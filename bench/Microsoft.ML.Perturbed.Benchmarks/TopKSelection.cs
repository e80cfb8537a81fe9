using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// `topk`: bare top-k selection per row (ns per row, one thread) by each path the oracle has — the AVX-512 selection
/// network, the heap with its vector skip, quickselect, the sort's first k — next to the ranking oracle on the same rows (the sorting network)
/// and the plain argmax. The methods run interleaved, round after round, and each keeps its fastest round, so bursts of
/// load on a shared machine hit all of them alike and the minimum is the quiet machine's time.
/// </summary>
internal static class TopKSelection
{
    public static void Run()
    {
        Console.WriteLine($"# topk selection, ns per row ({ThreadClock.Name}, fastest of 400 interleaved rounds of 1,000 rows), one thread; AVX-512 {KeySelectionNetwork.IsSupported}");
        foreach ((int d, int k, int rows) in new[] { (100, 10, 25_600), (100, 32, 25_600), (100, 50, 25_600), (256, 64, 12_800), (1000, 10, 6_400), (1000, 32, 6_400), (30, 5, 25_600), (64, 10, 25_600), (64, 5, 25_600) })
        {
            float[] noisy = Heads.NoisyCopies(Heads.Scores(rows / 64, d), 64, 0.5).SelectMany(x => x).ToArray();
            var y = new float[d];
            Oracle ranking = Oracle.Ranking(d);
            var methods = new List<(string Name, Action<ReadOnlySpan<float>> Solve)>
            {
                ("heap", x => { y.AsSpan().Clear(); TopKOracle.SelectWithHeap(x, k, y); }),
                ("quickselect", x =>
                {
                    y.AsSpan().Clear();
                    Span<ulong> keys = SortKeys.Scratch(x.Length);
                    SortKeys.Fill(x, keys);
                    SortKeys.SelectSmallest(keys, k);
                    for (int i = 0; i < k; i++) y[SortKeys.Index(keys[i])] = 1f;
                }),
                ("sort, first k", x => { y.AsSpan().Clear(); ReadOnlySpan<ulong> sorted = SortKeys.Sorted(x); for (int i = 0; i < k; i++) y[SortKeys.Index(sorted[i])] = 1f; }),
                ("ranking oracle", x => ranking.SolveRow(x, y)),
                ("argmax", x => { y.AsSpan().Clear(); y[ArgmaxOracle.IndexOfMax(x)] = 1f; }),
            };
            if (KeySelectionNetwork.IsSupported && k <= KeySelectionNetwork.MaxK)
            {
                methods.Insert(0, ("network", x => { y.AsSpan().Clear(); KeySelectionNetwork.SelectTop(x, k, y); }));
            }
            var best = new double[methods.Count];
            Array.Fill(best, double.MaxValue);
            for (int round = 0; round < 400; round++)
            {
                for (int m = 0; m < methods.Count; m++)
                {
                    var solve = methods[m].Solve;
                    int first = (round * 1000) % (rows - 1000);
                    double t0 = ThreadClock.Milliseconds();
                    for (int r = first; r < first + 1000; r++) solve(noisy.AsSpan(r * d, d));
                    best[m] = Math.Min(best[m], (ThreadClock.Milliseconds() - t0) * 1e6 / 1000);
                }
            }
            Console.WriteLine($"d={d} k={k} " + string.Join("  ", methods.Select((m, i) => $"{m.Name}={best[i]:F1}")));
        }
    }
}
