using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>The oracle of <see cref="Oracle.Ranking(int)"/>, documented there.</summary>
internal sealed class RankingOracle : Oracle
{
    private readonly float[] _descending;
    private readonly bool _isDefaultReference;

    /// <summary>Creates the oracle with the default reference v = (1, 2, …, d): outputs are ascending ranks.</summary>
    public RankingOracle(int dimension) : this(DefaultReference(dimension))
    {
    }

    /// <summary>Creates the oracle over the permutahedron of <paramref name="reference"/> (any order, finite entries).</summary>
    public RankingOracle(ReadOnlySpan<float> reference) : base(reference.Length, reference.Length)
    {
        Guard.Finite(reference, reference.Length, nameof(reference));
        _descending = reference.ToArray();
        Array.Sort(_descending);
        Array.Reverse(_descending);
        _isDefaultReference = true;
        for (int k = 0; k < _descending.Length; k++) _isDefaultReference &= _descending[k] == _descending.Length - k;
    }

    /// <summary>The reference vector sorted in decreasing order: the k-th largest score receives entry k.</summary>
    public ReadOnlySpan<float> ReferenceDescending => _descending;

    /// <inheritdoc/>
    public override string Name => $"Ranking(d={Dimension})";

    /// <inheritdoc/>
    public override LinearLoss LinearTaskLoss => LinearLosses.PermutationSquared;

    /// <summary>The device's ranking kernel (ascending ranks 1..d) when the reference is the default (1, 2, …, d); null otherwise.</summary>
    internal override DeviceKernel? DeviceKernel => _isDefaultReference ? new DeviceKernel(DeviceKernelKind.Ranking) : null;

    /// <summary>(1, 2, …, d).</summary>
    public static float[] DefaultReference(int dimension)
    {
        Guard.Positive(dimension, nameof(dimension));
        var v = new float[dimension];
        for (int i = 0; i < dimension; i++)
        {
            v[i] = i + 1;
        }
        return v;
    }

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> theta, Span<float> solution)
    {
        ReadOnlySpan<ulong> keys = SortKeys.Sorted(theta);
        float[] v = _descending;
        for (int k = 0; k < keys.Length; k++)
        {
            solution[SortKeys.Index(keys[k])] = v[k];
        }
    }
}
