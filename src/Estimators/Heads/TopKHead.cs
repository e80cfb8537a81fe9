using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>Top-k selection (multilabel with k labels per row): labels and predictions are 0/1 vectors with k ones.</summary>
internal sealed class TopKHead : DecisionHead
{
    /// <summary>Creates the head for <paramref name="k"/> ≥ 1 selected labels.</summary>
    public TopKHead(int k) : this(k, 0)
    {
    }

    private TopKHead(int k, int dimension) : base(dimension, LabelKind.Solution)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        K = k;
    }

    /// <summary>k.</summary>
    public int K { get; }

    /// <inheritdoc/>
    public override string Name => "TopK";

    private protected override int DimensionFor(int size, string column) =>
        K <= size ? size : throw new ArgumentOutOfRangeException("label", K, $"k = {K} is larger than the {size} labels of column '{column}'.");

    private protected override DecisionHead WithDimension(int dimension) => new TopKHead(K, dimension);

    /// <inheritdoc/>
    public override Oracle CreateOracle() => new TopKOracle(Dimension, K);

    private protected override string? OnnxDownstream => null;

    /// <summary>Name of the extra ONNX output with the k selected indices (0-based, by decreasing score, equal scores by increasing index).</summary>
    public const string OnnxIndicesOutputName = "PredictedIndices";

    /// <summary>
    /// <c>Prediction</c>: the indicator of TopK's k indices (equal scores in increasing index order, the oracle's rule), and
    /// the indices themselves as the extra int64 output <see cref="OnnxIndicesOutputName"/>.
    /// </summary>
    private protected override void WritePredictionOnnx(OnnxGraph graph, string theta, HeadOutput prediction)
    {
        (_, string indices) = graph.TopK(theta, K, largest: true);
        string zeros = graph.Node("ConstantOfShape", [graph.Node("Shape", [theta])]);   // float 0 by default
        graph.Output(prediction.Name, prediction.Type, graph.ScatterRow(zeros, indices, Enumerable.Repeat(1f, K).ToArray()));
        graph.ExtraOutput(OnnxIndicesOutputName, indices, K);
    }

    private protected override void CheckSolution(ReadOnlySpan<float> label, string column, long row)
    {
        RequireZeroOne(label, column, row);
        int ones = 0;
        foreach (float v in label) if (v == 1) ones++;
        if (ones != K) throw new InvalidOperationException($"Column '{column}' row {row} has {ones} labels set; the top-k head expects exactly k = {K}.");
    }

    // *** Binary format ***: int k; int d.
    /// <inheritdoc/>
    internal override void Write(BinaryWriter writer)
    {
        writer.Write(K);
        writer.Write(Dimension);
    }

    internal static TopKHead Read(BinaryReader reader)
    {
        int k = reader.ReadInt32(), d = reader.ReadInt32();
        if (k < 1 || d < k) throw new FormatException($"The saved top-k head claims k = {k} of {d} labels.");
        return new TopKHead(k, d);
    }
}
