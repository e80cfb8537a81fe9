using System.Runtime.Intrinsics;
using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>The oracle of <see cref="Oracle.Argmax"/>, documented there.</summary>
internal sealed class ArgmaxOracle : Oracle
{
    /// <summary>Creates the oracle for <paramref name="dimension"/> classes.</summary>
    public ArgmaxOracle(int dimension) : base(dimension, dimension)
    {
    }

    /// <inheritdoc/>
    public override string Name => $"Argmax(d={Dimension})";

    /// <inheritdoc/>
    public override LinearLoss LinearTaskLoss => LinearLosses.ZeroOneSquared;

    /// <inheritdoc/>
    internal override DeviceKernel? DeviceKernel => new DeviceKernel(DeviceKernelKind.Argmax);

    /// <inheritdoc/>
    internal override bool IsUnitSimplex => true;

    /// <summary>Index of the largest score, the lowest index among ties.</summary>
    public static int IndexOfMax(ReadOnlySpan<float> theta)
    {
        int n = theta.Length;
        if (Vector512.IsHardwareAccelerated && n >= 32)
        {
            // Not TensorPrimitives.IndexOfMax: it ranks +0 above −0, where the tie rule (and the sort keys) treat them as equal.
            // The maximum by lanes (NaN propagates, and a NaN row takes the scalar rule below), then the first index holding it (−0 = +0, as the scalar comparison has it).
            Vector512<float> max = Vector512.Create(theta[..16]);
            int i = 16;
            for (; i + 16 <= n; i += 16)
            {
                max = Vector512.Max(max, Vector512.Create(theta.Slice(i, 16)));
            }
            float m = MaxOfLanes(Vector512.Max(max, Vector512.Create(theta[(n - 16)..])));
            if (!float.IsNaN(m))
            {
                var target = Vector512.Create(m);
                for (i = 0; i + 16 <= n; i += 16)
                {
                    uint hit = (uint)Vector512.Equals(Vector512.Create(theta.Slice(i, 16)), target).ExtractMostSignificantBits();
                    if (hit != 0)
                    {
                        return i + System.Numerics.BitOperations.TrailingZeroCount(hit);
                    }
                }
                for (; i < n; i++)
                {
                    if (theta[i] == m) return i;
                }
            }
        }
        int best = 0;
        float value = theta[0];
        for (int i = 1; i < n; i++)
        {
            if (theta[i] > value)
            {
                value = theta[i];
                best = i;
            }
        }
        return best;
    }

    private static float MaxOfLanes(Vector512<float> v)
    {
        Vector256<float> h = Vector256.Max(v.GetLower(), v.GetUpper());
        Vector128<float> q = Vector128.Max(h.GetLower(), h.GetUpper());
        float a = MathF.Max(q[0], q[1]), b = MathF.Max(q[2], q[3]);
        return MathF.Max(a, b);
    }

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> theta, Span<float> solution)
    {
        solution.Clear();
        solution[IndexOfMax(theta)] = 1f;
    }
}
