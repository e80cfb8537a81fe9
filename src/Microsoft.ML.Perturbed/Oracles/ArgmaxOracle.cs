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
        int best = 0;
        float max = theta[0];
        for (int i = 1; i < theta.Length; i++)
        {
            if (theta[i] > max)
            {
                max = theta[i];
                best = i;
            }
        }
        return best;
    }

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> theta, Span<float> solution)
    {
        solution.Clear();
        solution[IndexOfMax(theta)] = 1f;
    }
}
