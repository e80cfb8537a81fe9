using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// Base of the heads whose label is a vector — a 0/1 solution of the head, or (<see cref="LabelKind.Costs"/>) the true
/// costs or scores of the instance, from which the solution is computed — and whose outputs are <c>Score</c> (θ) and
/// <c>Prediction</c> (the oracle's solution on θ): top-k, matching, shortest paths, knapsack, a user's oracle.
/// </summary>
internal abstract class DecisionHead : PerturbedHead
{
    /// <summary>Name of the predicted solution column.</summary>
    public const string PredictionColumnName = "Prediction";

    private Oracle? _oracle;

    /// <summary>Creates the head.</summary>
    protected DecisionHead(int dimension, LabelKind labels) : base(dimension)
    {
        if (!Enum.IsDefined(labels)) throw new ArgumentOutOfRangeException(nameof(labels), labels, "Unknown label kind.");
        Labels = labels;
    }

    /// <summary>What the label column holds.</summary>
    public LabelKind Labels { get; }

    /// <summary>The oracle of a bound head, created once (oracles are thread-safe).</summary>
    private protected Oracle BoundOracle => _oracle ??= CreateOracle();

    /// <summary>The number of scores for a label of <paramref name="size"/> slots; throws in ML.NET's wording if the size is wrong.</summary>
    private protected abstract int DimensionFor(int size, string column);

    /// <summary>
    /// <paramref name="size"/> when it is the <paramref name="expected"/> label size of a fixed-size head; otherwise the
    /// schema-mismatch refusal in ML.NET's wording, with what the slots are (<paramref name="slots"/>, e.g. " (one value per edge)").
    /// </summary>
    private protected static int RequireLabelSize(int size, long expected, string column, string slots = "") => size == expected ? size
        : throw new ArgumentOutOfRangeException("label", $"Schema mismatch for label column '{column}': expected Vector<Single, {expected}>{slots}, got Vector<Single, {size}>");

    /// <summary>The same head bound to <paramref name="dimension"/> scores.</summary>
    private protected abstract DecisionHead WithDimension(int dimension);

    /// <inheritdoc/>
    public sealed override PerturbedHead Bind(DataViewSchema.Column label)
    {
        int size = VectorSize(label, Labels == LabelKind.Costs ? "known-size vector of Single (the true costs)" : "known-size vector of Single (0/1 solutions)");
        return WithDimension(DimensionFor(size, label.Name));
    }

    /// <summary>Checks a solution label (default: 0/1 entries); heads add their feasibility rule.</summary>
    private protected virtual void CheckSolution(ReadOnlySpan<float> label, string column, long row) => RequireZeroOne(label, column, row);

    /// <summary>Checks a cost label (default: finite, already checked); a head with a domain (non-negative costs) adds it.</summary>
    private protected virtual void CheckCosts(ReadOnlySpan<float> label, string column, long row)
    {
    }

    /// <inheritdoc/>
    private protected sealed override void EncodeLabel(ReadOnlySpan<float> label, Span<float> target, LabelKind targets, string column, long row)
    {
        if (Labels == LabelKind.Solution)
        {
            if (targets == LabelKind.Costs)
            {
                throw new InvalidOperationException($"The loss needs the true costs of each instance, but column '{column}' holds solutions; train on a cost label with LabelKind.Costs.");
            }
            CheckSolution(label, column, row);
            label.CopyTo(target);
            return;
        }
        CheckCosts(label, column, row);
        if (targets == LabelKind.Costs) label.CopyTo(target);
        else BoundOracle.Solve(label, target, maxDegreeOfParallelism: 1);
    }

    /// <inheritdoc/>
    internal override IReadOnlyList<HeadOutput> Outputs(PerturbedModelParameters parameters)
    {
        var vector = new VectorDataViewType(NumberDataViewType.Single, Dimension);
        var none = new DataViewSchema.Annotations.Builder().ToAnnotations();
        return [new("Score", vector, none, Dimension), new(PredictionColumnName, vector, none, Dimension)];
    }

    /// <inheritdoc/>
    internal override HeadDecoder CreateDecoder(PerturbedModelParameters parameters)
    {
        Oracle oracle = BoundOracle;
        return (theta, outputs) =>
        {
            theta.CopyTo(outputs[0]);
            oracle.Solve(theta, outputs[1], maxDegreeOfParallelism: 1);
        };
    }

    /// <summary>
    /// What to run downstream of an ONNX model of this head's scores to get its <c>Prediction</c>, for the heads whose
    /// solver ONNX cannot express (null: the head writes its prediction, see <see cref="WritePredictionOnnx"/>).
    /// </summary>
    private protected abstract string? OnnxDownstream { get; }

    /// <summary>Writes the <c>Prediction</c> column from θ (heads with a null <see cref="OnnxDownstream"/>).</summary>
    private protected virtual void WritePredictionOnnx(OnnxGraph graph, string theta, HeadOutput prediction) =>
        throw new InvalidOperationException($"The head {Name} declares an ONNX prediction but does not write it.");

    /// <summary>
    /// <c>Score</c> = θ, and <c>Prediction</c> where ONNX can express the solver; otherwise a
    /// <see cref="NotSupportedException"/> saying what to run downstream, or, in a scores-only export, θ alone.
    /// </summary>
    internal sealed override void WriteOnnx(OnnxGraph graph, string theta, PerturbedModelParameters parameters)
    {
        IReadOnlyList<HeadOutput> outputs = Outputs(parameters);
        graph.Output(outputs[0].Name, outputs[0].Type, theta);
        if (OnnxDownstream is null)
        {
            WritePredictionOnnx(graph, theta, outputs[1]);
        }
        else if (graph.ScoresOnly)
        {
            graph.Skip(outputs[1].Name);
        }
        else
        {
            throw new NotSupportedException($"The '{outputs[1].Name}' column of the {Name} head has no ONNX form: ONNX has no operator for {OnnxDownstream}. " +
                $"Export the scores alone (mlContext.Model.ExportToOnnx with {nameof(PerturbedOnnxExportOptions)}.{nameof(PerturbedOnnxExportOptions.ScoresOnly)} = true, which writes the '{outputs[0].Name}' column θ) and run {OnnxDownstream} on θ downstream.");
        }
    }

    /// <summary>Writes the label kind (every decision head starts its parameters with it).</summary>
    private protected void WriteLabels(BinaryWriter writer) => writer.Write((int)Labels);

    /// <summary>Reads what <see cref="WriteLabels"/> wrote.</summary>
    private protected static LabelKind ReadLabels(BinaryReader reader) =>
        reader.ReadInt32() is var kind && Enum.IsDefined((LabelKind)kind) ? (LabelKind)kind : throw new FormatException($"The saved head claims label kind {kind}.");
}
