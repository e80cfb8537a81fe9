using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>0/1 knapsack (<see cref="Oracle.Knapsack"/>): scores are predicted item values, labels the optimal packing or the true values.</summary>
internal sealed class KnapsackHead : DecisionHead
{
    private readonly int[] _weights;

    /// <summary>Creates the head.</summary>
    /// <param name="weights">Item weights (non-negative integers).</param>
    /// <param name="capacity">Capacity.</param>
    /// <param name="labels">Whether labels are packings (default) or true item values.</param>
    public KnapsackHead(IReadOnlyList<int> weights, int capacity, LabelKind labels = LabelKind.Solution) : this(weights, capacity, labels, 0)
    {
    }

    private KnapsackHead(IReadOnlyList<int> weights, int capacity, LabelKind labels, int dimension) : base(dimension, labels)
    {
        Oracle = new KnapsackOracle(weights, capacity);   // checks the weights and the capacity
        _weights = weights.ToArray();
        Capacity = capacity;
    }

    /// <summary>The oracle.</summary>
    public KnapsackOracle Oracle { get; }

    /// <summary>The capacity.</summary>
    public int Capacity { get; }

    /// <inheritdoc/>
    public override string Name => "Knapsack";

    private protected override string OnnxDownstream => "the 0/1 knapsack with item values θ and the head's weights and capacity (KnapsackOracle in .NET; a dynamic program over integer weights elsewhere)";

    private protected override int DimensionFor(int size, string column) => RequireLabelSize(size, _weights.Length, column, " (one value per item)");

    private protected override DecisionHead WithDimension(int dimension) => new KnapsackHead(_weights, Capacity, Labels, dimension);

    /// <inheritdoc/>
    public override Oracles.Oracle CreateOracle() => Oracle;

    private protected override void CheckSolution(ReadOnlySpan<float> label, string column, long row)
    {
        RequireZeroOne(label, column, row);
        long weight = 0;
        for (int i = 0; i < label.Length; i++) if (label[i] == 1) weight += _weights[i];
        if (weight > Capacity) throw new InvalidOperationException($"Column '{column}' row {row} packs weight {weight}, above the capacity {Capacity}.");
    }

    // *** Binary format ***: int label kind; int n; n weights; int capacity.
    /// <inheritdoc/>
    internal override void Write(BinaryWriter writer)
    {
        WriteLabels(writer);
        writer.Write(_weights.Length);
        foreach (int w in _weights) writer.Write(w);
        writer.Write(Capacity);
    }

    internal static KnapsackHead Read(BinaryReader reader)
    {
        LabelKind labels = ReadLabels(reader);
        int n = reader.ReadInt32();
        if (n < 1 || n > 10_000_000) throw new FormatException($"The saved knapsack head claims {n} items.");
        var weights = new int[n];
        for (int i = 0; i < n; i++) weights[i] = reader.ReadInt32();
        return new KnapsackHead(weights, reader.ReadInt32(), labels, n);
    }
}
