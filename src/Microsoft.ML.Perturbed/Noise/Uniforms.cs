using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Noise;

/// <summary>Bulk uniforms for the samplers: random bits drawn straight into the destination, then converted in place.</summary>
internal static class Uniforms
{
    /// <summary>Fills <paramref name="destination"/> with uniforms in (0, 1), the same values as repeated <see cref="PhiloxStream.NextSingle"/>.</summary>
    public static void Fill(ref PhiloxStream stream, Span<float> destination)
    {
        Span<uint> bits = MemoryMarshal.Cast<float, uint>(destination);
        stream.NextUInt32(bits);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Span<Vector<uint>> vb = MemoryMarshal.Cast<uint, Vector<uint>>(bits);
            Span<Vector<float>> vf = MemoryMarshal.Cast<uint, Vector<float>>(bits);
            var one = Vector<uint>.One;
            var scale = new Vector<float>(1f / (1 << 24));
            for (int k = 0; k < vb.Length; k++)
            {
                // (2·(b >> 9) + 1)·2⁻²⁴: exact in single precision, see PhiloxStream.ToOpenUnitSingle.
                vf[k] = Vector.ConvertToSingle(((vb[k] >> 9) << 1) + one) * scale;
            }
            i = vb.Length * Vector<uint>.Count;
        }
        for (; i < bits.Length; i++)
        {
            destination[i] = PhiloxStream.ToOpenUnitSingle(bits[i]);
        }
    }
}
