using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
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
        stream.NextUInt32(MemoryMarshal.Cast<float, uint>(destination));
        Convert(destination);
    }

    /// <summary>Turns random bits stored in <paramref name="values"/> into their uniforms in place (<see cref="PhiloxStream.ToOpenUnitSingle"/>).</summary>
    public static void Convert(Span<float> values)
    {
        Span<uint> bits = MemoryMarshal.Cast<float, uint>(values);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Span<Vector<uint>> vb = MemoryMarshal.Cast<uint, Vector<uint>>(bits);
            Span<Vector<float>> vf = MemoryMarshal.Cast<uint, Vector<float>>(bits);
            for (int k = 0; k < vb.Length; k++)
            {
                vf[k] = ToUnit(vb[k]);
            }
            i = vb.Length * Vector<uint>.Count;
        }
        for (; i < bits.Length; i++)
        {
            values[i] = PhiloxStream.ToOpenUnitSingle(bits[i]);
        }
    }

    /// <summary>(2·(b >> 9) + 1)·2⁻²⁴ lane by lane: exact in single precision, see <see cref="PhiloxStream.ToOpenUnitSingle"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> ToUnit(Vector<uint> bits) => Vector.ConvertToSingle(((bits >> 9) << 1) + Vector<uint>.One) * new Vector<float>(1f / (1 << 24));

    /// <summary>The sixteen-lane <see cref="ToUnit(Vector{uint})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ToUnit(Vector512<uint> bits) => Vector512.ConvertToSingle(((bits >> 9) << 1) + Vector512<uint>.One) * Vector512.Create(1f / (1 << 24));
}
