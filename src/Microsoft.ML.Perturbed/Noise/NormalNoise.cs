using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Noise;

/// <summary>Standard normal noise drawn by the Box–Muller transform from a counter-based stream.</summary>
internal sealed class NormalNoise : NoiseDistribution
{
    /// <inheritdoc/>
    public override string Name => "Normal";

    /// <inheritdoc/>
    /// <remarks>
    /// Box–Muller, sixteen pairs at a time where the processor has AVX-512, else eight (the same bits either way, see
    /// <see cref="NoiseMath"/>): with the first half of the uniforms as u₁
    /// and the second as u₂, writes z = r·cos(2πu₂) to the first half and r·sin(2πu₂) to the second, r = √(−2 ln u₁). An odd
    /// last entry uses one more pair of uniforms. Every entry goes through the same vector code, so values depend on the
    /// stream only.
    /// </remarks>
    internal override void Sample(ref PhiloxStream stream, Span<float> destination)
    {
        int half = destination.Length / 2;
        Span<float> a = destination[..half], b = destination.Slice(half, half);
        // Random bits first; the sixteen-lane loop turns them into uniforms as it reads them, the rest is converted after.
        stream.NextUInt32(MemoryMarshal.Cast<float, uint>(destination[..(2 * half)]));
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= half; i += 16)
            {
                Vector512<float> u1 = Uniforms.ToUnit(Vector512.Create(a.Slice(i, 16)).AsUInt32());
                Vector512<float> u2 = Uniforms.ToUnit(Vector512.Create(b.Slice(i, 16)).AsUInt32());
                BoxMuller(u1, u2, out Vector512<float> z1, out Vector512<float> z2);
                z1.CopyTo(a.Slice(i, 16));
                z2.CopyTo(b.Slice(i, 16));
            }
        }
        Uniforms.Convert(a[i..]);
        Uniforms.Convert(b[i..]);
        for (; i + 8 <= half; i += 8)
        {
            BoxMuller(Vector256.Create(a.Slice(i, 8)), Vector256.Create(b.Slice(i, 8)), out Vector256<float> z1, out Vector256<float> z2);
            z1.CopyTo(a.Slice(i, 8));
            z2.CopyTo(b.Slice(i, 8));
        }
        if (i < half || destination.Length % 2 == 1)
        {
            // The last < 8 pairs, and the odd entry's pair, padded to one vector.
            int rest = half - i;
            Span<float> u1 = stackalloc float[8], u2 = stackalloc float[8], z = stackalloc float[16];
            u1.Fill(0.5f);
            u2.Fill(0.5f);
            a[i..].CopyTo(u1);
            b[i..].CopyTo(u2);
            if (destination.Length % 2 == 1)
            {
                u1[rest] = stream.NextSingle();
                u2[rest] = stream.NextSingle();
            }
            BoxMuller(Vector256.Create(u1), Vector256.Create(u2), out Vector256<float> z1, out Vector256<float> z2);
            z1.CopyTo(z);
            z2.CopyTo(z[8..]);
            z[..rest].CopyTo(a[i..]);
            z.Slice(8, rest).CopyTo(b[i..]);
            if (destination.Length % 2 == 1)
            {
                destination[^1] = z[rest];
            }
        }
    }

    private static void BoxMuller(Vector256<float> u1, Vector256<float> u2, out Vector256<float> z1, out Vector256<float> z2)
    {
        Vector256<float> r = Vector256.Sqrt(NoiseMath.Log(u1) * Vector256.Create(-2f));
        NoiseMath.SinCosTwoPi(u2, out Vector256<float> sin, out Vector256<float> cos);
        z1 = r * cos;
        z2 = r * sin;
    }

    /// <summary>The sixteen-lane <see cref="BoxMuller(Vector256{float}, Vector256{float}, out Vector256{float}, out Vector256{float})"/>, lane for lane the same operations.</summary>
    private static void BoxMuller(Vector512<float> u1, Vector512<float> u2, out Vector512<float> z1, out Vector512<float> z2)
    {
        Vector512<float> r = Vector512.Sqrt(NoiseMath.Log(u1) * Vector512.Create(-2f));
        NoiseMath.SinCosTwoPi(u2, out Vector512<float> sin, out Vector512<float> cos);
        z1 = r * cos;
        z2 = r * sin;
    }

    /// <inheritdoc/>
    internal override void Score(ReadOnlySpan<float> z, Span<float> destination) => z.CopyTo(destination);

    /// <inheritdoc/>
    internal override double NegativeLogDensity(double z) => 0.5 * z * z;
}
