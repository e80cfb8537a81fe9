using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// A head over a user's own solver: <paramref name="createOracle"/> builds the oracle for the label's slot count (the
/// solutions must live in the space of the scores). Register it with <see cref="PerturbedHeads.RegisterOracle"/> under its
/// name, in every process that loads its models.
/// </summary>
/// <param name="name">The registry name.</param>
/// <param name="createOracle">Builds the oracle for d scores.</param>
/// <param name="labels">Whether labels are solutions (default) or true costs/scores.</param>
internal sealed class OracleHead(string name, Func<int, Oracle> createOracle, LabelKind labels = LabelKind.Solution) : DecisionHead(0, labels)
{
    private readonly Func<int, Oracle> _create = createOracle ?? throw new ArgumentNullException(nameof(createOracle));

    /// <inheritdoc/>
    public override string Name { get; } = string.IsNullOrWhiteSpace(name) ? throw new ArgumentException("A head needs a name.", nameof(name)) : name;

    private protected override int DimensionFor(int size, string column)
    {
        Oracle oracle = _create(size) ?? throw new InvalidOperationException($"The oracle factory of head '{Name}' returned null.");
        if (oracle.Dimension != size || oracle.OutputDimension != size)
        {
            throw new ArgumentOutOfRangeException("label", $"Head '{Name}': the oracle for {size} slots maps {oracle.Dimension} scores to {oracle.OutputDimension} values; a head's label, scores and solutions share one size.");
        }
        return size;
    }

    private protected override DecisionHead WithDimension(int dimension) => new BoundOracleHead(Name, _create, Labels, dimension);

    /// <inheritdoc/>
    public override Oracle CreateOracle() => throw new InvalidOperationException($"Head '{Name}' is not bound to a label column.");

    private protected override string OnnxDownstream => $"the user oracle '{Name}'";

    /// <inheritdoc/>
    internal override void Write(BinaryWriter writer) => throw new InvalidOperationException($"Head '{Name}' is not bound to a label column.");

    /// <summary>The bound form of an <see cref="OracleHead"/>.</summary>
    internal sealed class BoundOracleHead(string name, Func<int, Oracle> create, LabelKind labels, int dimension) : DecisionHead(dimension, labels)
    {
        public override string Name => name;

        private protected override int DimensionFor(int size, string column) => RequireLabelSize(size, Dimension, column);

        private protected override DecisionHead WithDimension(int d) => new BoundOracleHead(name, create, Labels, d);

        public override Oracle CreateOracle() => create(Dimension);

        private protected override string OnnxDownstream => $"the user oracle '{name}'";

        // *** Binary format ***: int label kind; int d.
        internal override void Write(BinaryWriter writer)
        {
            WriteLabels(writer);
            writer.Write(Dimension);
        }

        internal static BoundOracleHead Read(string name, Func<int, Oracle> create, BinaryReader reader)
        {
            LabelKind labels = ReadLabels(reader);
            int d = reader.ReadInt32();
            if (d < 1) throw new FormatException($"The saved head '{name}' claims {d} scores.");
            return new BoundOracleHead(name, create, labels, d);
        }
    }
}
