using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>Perfect matching of n rows to n columns: labels and predictions are n×n permutation matrices, row-major.</summary>
internal sealed class MatchingHead : DecisionHead
{
    /// <summary>Creates the head for an <paramref name="n"/> × n assignment.</summary>
    public MatchingHead(int n) : this(n, 0)
    {
    }

    private MatchingHead(int n, int dimension) : base(dimension, LabelKind.Solution)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be at least 1.");
        N = n;
    }

    /// <summary>n.</summary>
    public int N { get; }

    /// <inheritdoc/>
    public override string Name => "Matching";

    private protected override int DimensionFor(int size, string column) => RequireLabelSize(size, (long)N * N, column, $" (an {N}×{N} assignment)");

    private protected override DecisionHead WithDimension(int dimension) => new MatchingHead(N, dimension);

    /// <inheritdoc/>
    public override Oracle CreateOracle() => new MatchingOracle(N);

    private protected override string OnnxDownstream => "the maximum-weight perfect matching of the n × n score matrix θ (MatchingOracle in .NET; scipy.optimize.linear_sum_assignment(θ, maximize=True) in Python)";

    private protected override void CheckSolution(ReadOnlySpan<float> label, string column, long row)
    {
        RequireZeroOne(label, column, row);
        for (int i = 0; i < N; i++)
        {
            int rowSum = 0, columnSum = 0;
            for (int j = 0; j < N; j++)
            {
                rowSum += (int)label[i * N + j];
                columnSum += (int)label[j * N + i];
            }
            if (rowSum != 1 || columnSum != 1)
            {
                throw new InvalidOperationException($"Column '{column}' row {row} is not an assignment: row or column {i} of the {N}×{N} matrix does not hold exactly one 1.");
            }
        }
    }

    // *** Binary format ***: int n.
    /// <inheritdoc/>
    internal override void Write(BinaryWriter writer) => writer.Write(N);

    internal static MatchingHead Read(BinaryReader reader)
    {
        int n = reader.ReadInt32();
        if (n < 1 || n > 46_340) throw new FormatException($"The saved matching head claims n = {n}.");
        return new MatchingHead(n, n * n);
    }
}
