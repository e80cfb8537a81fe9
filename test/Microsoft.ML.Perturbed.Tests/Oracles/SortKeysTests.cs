using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Tests.Oracles;

/// <summary>
/// Every key sort (the AVX-512 network for short rows, the radix sort, the length dispatch) against introsort of the
/// same 64-bit keys, on rows with ties, signed zeros and extreme magnitudes, and the ranking oracle against brute force.
/// </summary>
public class SortKeysTests
{
    /// <summary>Rows of kind 0–4: distinct, many ties, signed zeros only, huge (±float.MaxValue at the ends), subnormal.</summary>
    internal static float[] Row(int n, int seed, int kind)
    {
        var s = new PhiloxStream((ulong)seed, 17, (uint)n, (uint)kind);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            float u = s.NextSingle();
            x[i] = kind switch
            {
                0 => 4 * u - 2,                                        // distinct
                1 => MathF.Floor(5 * u) - 2,                           // many ties
                2 => (s.NextUInt32() & 1) == 0 ? 0f : -0f,             // signed zeros only
                3 => (u - 0.5f) * float.MaxValue * 1.9f,               // huge
                4 => (u - 0.5f) * 1e-44f,                              // subnormal
                _ => throw new ArgumentOutOfRangeException(nameof(kind)),
            };
        }
        if (n > 2)
        {
            x[0] = kind == 3 ? float.MaxValue : x[0];
            x[n - 1] = kind == 3 ? -float.MaxValue : x[n - 1];
        }
        return x;
    }

    private static ulong[] Keys(float[] x)
    {
        var keys = new ulong[x.Length];
        SortKeys.Fill(x, keys);
        return keys;
    }

    public static IEnumerable<object[]> Lengths()
    {
        foreach (int n in new[] { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200, 255, 256, 257, 1000 })
        {
            yield return [n];
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Every_sort_gives_introsorts_order(int n)
    {
        for (int kind = 0; kind < 5; kind++)
        {
            for (int seed = 0; seed < 8; seed++)
            {
                ulong[] keys = Keys(Row(n, seed, kind));
                ulong[] expected = (ulong[])keys.Clone();
                Array.Sort(expected);

                ulong[] dispatched = (ulong[])keys.Clone();
                SortKeys.SortFilled(dispatched);
                Assert.Equal(expected, dispatched);

                ulong[] radix = (ulong[])keys.Clone();
                SortKeys.RadixSort(radix);
                Assert.Equal(expected, radix);

                if (KeySortingNetwork.IsSupported && n <= KeySortingNetwork.MaxLength)
                {
                    ulong[] network = (ulong[])keys.Clone();
                    KeySortingNetwork.Sort(network);
                    Assert.Equal(expected, network);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Sorted_scores_equal_introsort_of_their_keys_either_sign(int n)
    {
        for (int kind = 0; kind < 5; kind++)
        {
            float[] x = Row(n, 11, kind);
            foreach (bool negate in new[] { false, true })
            {
                var expected = new ulong[n];
                for (int i = 0; i < n; i++) expected[i] = SortKeys.Descending(negate ? -x[i] : x[i], i);
                Array.Sort(expected);
                Assert.Equal(expected, SortKeys.Sorted(x, negate).ToArray());
            }
        }
    }

    [Fact]
    public void Network_refuses_rows_longer_than_its_maximum()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KeySortingNetwork.Sort(new ulong[KeySortingNetwork.MaxLength + 1]));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(100)]
    [InlineData(256)]
    public void Ranking_equals_brute_force_ranks_with_lower_index_winning_ties(int n)
    {
        var oracle = new RankingOracle(n);
        for (int kind = 0; kind < 5; kind++)
        {
            float[] x = Row(n, 3, kind);
            var y = new float[n];
            oracle.Solve(x, y);
            for (int i = 0; i < n; i++)
            {
                // Rank = 1 + the number of entries that count as smaller: smaller score, or equal score at a higher index.
                int smaller = 0;
                for (int j = 0; j < n; j++)
                {
                    if (x[j] < x[i] || (x[j] == x[i] && j > i)) smaller++;
                }
                Assert.Equal(smaller + 1, y[i]);
            }
        }
    }
}
