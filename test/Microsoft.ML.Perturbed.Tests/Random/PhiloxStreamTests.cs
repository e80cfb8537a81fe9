using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Tests.Random;

public class PhiloxStreamTests
{
    // Known-answer vectors of Random123 (tests/kat_vectors, "philox4x32 10"): counter[4], key[2] → output[4].
    [Theory]
    [InlineData(0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Block_matches_Random123_known_answers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint r0, uint r1, uint r2, uint r3)
    {
        PhiloxStream.Block(c0, c1, c2, c3, k0, k1, out uint o0, out uint o1, out uint o2, out uint o3);
        Assert.Equal((r0, r1, r2, r3), (o0, o1, o2, o3));
    }

    [Fact]
    public void Stream_returns_block_words_in_order_and_bulk_equals_scalar()
    {
        var s = new PhiloxStream(0x299f31d0_a4093822UL, 0x85a308d3, 0x13198a2e, 0x03707344);
        PhiloxStream.Block(0, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out uint a, out uint b, out uint c, out uint d);
        Assert.Equal(new[] { a, b, c, d }, new[] { s.NextUInt32(), s.NextUInt32(), s.NextUInt32(), s.NextUInt32() });

        var scalar = new PhiloxStream(42, 1, 2, 3);
        var bulk = new PhiloxStream(42, 1, 2, 3);
        var expected = new uint[23];
        for (int i = 0; i < expected.Length; i++) expected[i] = scalar.NextUInt32();
        var actual = new uint[23];
        bulk.NextUInt32(actual.AsSpan(0, 3));   // leaves a partly used block
        bulk.NextUInt32(actual.AsSpan(3));
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(100)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(129)]
    [InlineData(191)]
    [InlineData(192)]
    [InlineData(256)]
    [InlineData(1000)]
    public void Bulk_draws_of_any_length_equal_the_block_function_in_order(int length)
    {
        // The vector paths (16 or 4 blocks at a time, the last group partly) against Block() word by word, over
        // several consecutive bulk calls so that each starts at a different block and within a block.
        var bulk = new PhiloxStream(0x0123_4567_89AB_CDEFUL, 7, 8, 9);
        var actual = new List<uint>();
        foreach (int part in new[] { length, 3, length, 1, length })
        {
            var chunk = new uint[part];
            bulk.NextUInt32(chunk);
            actual.AddRange(chunk);
        }
        var expected = new List<uint>();
        for (uint block = 0; expected.Count < actual.Count; block++)
        {
            PhiloxStream.Block(block, 7, 8, 9, 0x89AB_CDEF, 0x0123_4567, out uint a, out uint b, out uint c, out uint d);
            expected.AddRange([a, b, c, d]);
        }
        Assert.Equal(expected.GetRange(0, actual.Count), actual);
    }

    [Fact]
    public void Uniforms_are_in_the_open_interval_and_have_the_right_moments()
    {
        Assert.Equal(1f / (1 << 24), PhiloxStream.ToOpenUnitSingle(0));
        Assert.Equal(1f - 1f / (1 << 24), PhiloxStream.ToOpenUnitSingle(uint.MaxValue));
        Assert.True(PhiloxStream.ToOpenUnitSingle(uint.MaxValue) < 1f);
        var s = PhiloxStream.ForSample(seed: 7, draw: 0, row: 0, sample: 0);
        const int n = 200_000;
        double sum = 0, sumSq = 0;
        for (int i = 0; i < n; i++)
        {
            double u = s.NextSingle();
            Assert.InRange(u, double.Epsilon, 1 - 1e-9);
            sum += u;
            sumSq += u * u;
        }
        // Mean 1/2 with standard error √(1/12/n) ≈ 6.5e-4; variance 1/12 with s.e. ≈ √(1/180/n) ≈ 1.7e-4.
        Assert.InRange(sum / n, 0.5 - 5 * 6.5e-4, 0.5 + 5 * 6.5e-4);
        Assert.InRange(sumSq / n - Math.Pow(sum / n, 2), 1.0 / 12 - 5 * 1.7e-4, 1.0 / 12 + 5 * 1.7e-4);
    }

    [Fact]
    public void Streams_of_different_rows_samples_draws_and_seeds_differ()
    {
        uint First(PhiloxStream s) => s.NextUInt32();
        var values = new HashSet<uint>
        {
            First(PhiloxStream.ForSample(0, 0, 0, 0)),
            First(PhiloxStream.ForSample(1, 0, 0, 0)),
            First(PhiloxStream.ForSample(0, 1, 0, 0)),
            First(PhiloxStream.ForSample(0, 0, 1, 0)),
            First(PhiloxStream.ForSample(0, 0, 0, 1)),
            First(PhiloxStream.ForSample(0, 1UL << 40, 0, 0)),
        };
        Assert.Equal(6, values.Count);
        Assert.Equal(First(PhiloxStream.ForSample(3, 5, 7, 9)), First(PhiloxStream.ForSample(3, 5, 7, 9)));
    }
}
