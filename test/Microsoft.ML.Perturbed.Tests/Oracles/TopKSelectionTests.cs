using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Tests.Oracles;

/// <summary>
/// The two top-k selections (the AVX-512 selection network, and the heap with its vector skip for other processors)
/// against the first k keys of an introsort of the same 64-bit keys, over row lengths around every run boundary, every
/// k the network takes, and rows made to defeat the skip test: ties, signed zeros, infinities, ascending rows (every run
/// enters) and descending rows (none after the first).
/// </summary>
public class TopKSelectionTests
{
    private static readonly int[] Lengths = [1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 1000, 1003];

    /// <summary>Kinds 0–4 are the sort tests' rows (distinct, ties, signed zeros, huge, subnormal); 5–8 defeat the filter.</summary>
    private static float[] Row(int n, int seed, int kind)
    {
        if (kind <= 4)
        {
            return SortKeysTests.Row(n, seed, kind);
        }
        var s = new PhiloxStream((ulong)seed, 23, (uint)n, (uint)kind);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            float u = s.NextSingle();
            x[i] = kind switch
            {
                5 => u < 0.1f ? float.PositiveInfinity : u > 0.9f ? float.NegativeInfinity : u,   // infinities
                6 => i,                                                           // ascending: every run enters
                7 => -i,                                                          // descending: no run after the first
                8 => (i % 37) - 0.5f * (i / 37),                                  // saw teeth
                _ => throw new ArgumentOutOfRangeException(nameof(kind)),
            };
        }
        return x;
    }

    private static float[] Reference(float[] scores, int k)
    {
        ulong[] keys = scores.Select((s, i) => SortKeys.Descending(s, i)).ToArray();
        Array.Sort(keys);
        var y = new float[scores.Length];
        foreach (ulong key in keys.Take(k)) y[SortKeys.Index(key)] = 1;
        return y;
    }

    public static TheoryData<int> Kinds() => new() { 0, 1, 2, 3, 4, 5, 6, 7, 8 };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Selection_network_selects_the_k_smallest_keys(int kind)
    {
        if (!KeySelectionNetwork.IsSupported)
        {
            return;   // this processor has no AVX-512: the oracle runs the heap, tested below
        }
        foreach (int n in Lengths)
        {
            for (int k = 1; k <= Math.Min(n, KeySelectionNetwork.MaxK); k++)
            {
                float[] x = Row(n, 3 * n + k, kind);
                var y = new float[n];
                KeySelectionNetwork.SelectTop(x, k, y);
                Assert.True(Reference(x, k).AsSpan().SequenceEqual(y), $"n = {n}, k = {k}, kind {kind}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Heap_selects_the_k_smallest_keys(int kind)
    {
        foreach (int n in Lengths)
        {
            foreach (int k in new[] { 1, 2, 3, 8, 10, 16, 17, 32, 33, 64 })
            {
                if (k > n) continue;
                float[] x = Row(n, 5 * n + k, kind);
                var y = new float[n];
                TopKOracle.SelectWithHeap(x, k, y);
                Assert.True(Reference(x, k).AsSpan().SequenceEqual(y), $"n = {n}, k = {k}, kind {kind}");
            }
        }
    }

    [Fact]
    public void Oracle_rows_equal_the_reference_on_every_path_it_chooses()
    {
        // The dispatch by (d, k): network (k ≤ 32 with AVX-512), heap (k ≤ 64, 8k ≤ d), quickselect (the rest).
        foreach ((int d, int k) in new[] { (100, 10), (100, 32), (100, 33), (1000, 10), (1000, 40), (1000, 100), (50, 40), (12, 12) })
        {
            var oracle = (TopKOracle)Oracle.TopK(d, k);
            for (int kind = 0; kind <= 8; kind++)
            {
                float[] x = Row(d, d + k, kind);
                var y = new float[d];
                oracle.SolveRow(x, y);
                Assert.True(Reference(x, k).AsSpan().SequenceEqual(y), $"d = {d}, k = {k}, kind {kind}");
            }
        }
    }

    [Fact]
    public void Network_refuses_k_outside_its_range()
    {
        if (!KeySelectionNetwork.IsSupported) return;
        var y = new float[40];
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => KeySelectionNetwork.SelectTop(new float[40], 33, y)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => KeySelectionNetwork.SelectTop(new float[4], 5, y)).ParamName);
    }

    [Fact]
    public void Argmax_equals_the_scalar_first_maximum_rule_on_every_row_kind()
    {
        static int Scalar(float[] x)
        {
            int best = 0;
            for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
            return best;
        }
        foreach (int n in Lengths)
        {
            for (int kind = 0; kind <= 8; kind++)
            {
                float[] x = Row(n, 7 * n + kind, kind);
                Assert.Equal(Scalar(x), ArgmaxOracle.IndexOfMax(x));
                if (n > 3)
                {
                    x[n / 2] = float.NaN;   // a NaN never wins, except at index 0 where nothing beats it
                    Assert.Equal(Scalar(x), ArgmaxOracle.IndexOfMax(x));
                    x[0] = float.NaN;
                    Assert.Equal(Scalar(x), ArgmaxOracle.IndexOfMax(x));
                }
            }
        }
    }
}
