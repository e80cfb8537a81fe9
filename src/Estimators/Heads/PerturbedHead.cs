using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// A prediction head of the one perturbed trainer (docs/architecture.md, "ML.NET"): everything task-specific — the oracle
/// it builds for its slot count, the label codec (checks and encoding), the output columns and their decoding, and its
/// persisted parameters. A head is first configured (k, n, a graph…), then <see cref="Bind"/>s to a label column, which
/// fixes its dimension and what it learns from the label (class names, slot names). The heads are the library's: get one
/// from the catalogs (<c>mlContext.StructuredPrediction().Trainers.TopK(k)</c>, …) or from <see cref="PerturbedHeads"/>
/// (<see cref="PerturbedHeads.ShortestPath"/>, …); a solver of your own becomes a head through
/// <see cref="PerturbedHeads.RegisterOracle"/>, which also lets saved models load it back by name. Not derivable outside
/// this assembly.
/// </summary>
public abstract class PerturbedHead
{
    /// <summary>Creates a head; <paramref name="dimension"/> is 0 until bound.</summary>
    private protected PerturbedHead(int dimension) => Dimension = dimension;

    /// <summary>The registry name, written into saved models.</summary>
    public abstract string Name { get; }

    /// <summary>Number d of scores (and of label slots for vector labels); 0 before <see cref="Bind"/>.</summary>
    public int Dimension { get; }

    /// <summary>Whether the head is bound to a label column.</summary>
    public bool IsBound => Dimension > 0;

    /// <summary>Checks the label column's type and returns the head bound to it (its dimension, label metadata).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column's type is not what the head reads (ML.NET's schema-mismatch wording).</exception>
    public abstract PerturbedHead Bind(DataViewSchema.Column label);

    /// <summary>Finds the label column in the data (the default: a known-size Single vector, in ML.NET's wording otherwise).</summary>
    internal virtual DataViewSchema.Column FindLabel(DataViewSchema schema, string name) => VectorColumns.Require(schema, name);

    /// <summary>The oracle solved on the model's scores (bound heads).</summary>
    public abstract Oracle CreateOracle();

    /// <summary>
    /// Reads and checks one label row and writes the loss's targets (length <see cref="Dimension"/>); throws
    /// <see cref="InvalidOperationException"/> naming the column and row when the label is not what the head expects.
    /// </summary>
    /// <param name="label">The raw label row (a Single vector of the label column's size).</param>
    /// <param name="target">Destination for the targets.</param>
    /// <param name="targets">What the loss needs (its <see cref="LossDescriptor.Targets"/>).</param>
    /// <param name="column">The label column's name, for messages.</param>
    /// <param name="row">The row's position, for messages.</param>
    private protected abstract void EncodeLabel(ReadOnlySpan<float> label, Span<float> target, LabelKind targets, string column, long row);

    /// <summary>
    /// Binds a reader of the label column to a cursor. The default reads a known-size Single vector and calls
    /// <see cref="EncodeLabel"/>; a head whose label is not a Single vector (the multiclass key) overrides it.
    /// </summary>
    internal virtual Func<DataViewRowCursor, LabelDecoder> LabelReader(DataViewSchema.Column label, string role, LabelKind targets) => cursor =>
    {
        ValueGetter<VBuffer<float>> get = cursor.GetGetter<VBuffer<float>>(label);
        VBuffer<float> buffer = default;
        var raw = new float[((VectorDataViewType)label.Type).Size];
        return (target, position) =>
        {
            get(ref buffer);
            VectorColumns.ReadFinite(buffer, raw, label.Name, position, role, skippable: true);
            EncodeLabel(raw, target, targets, label.Name, position);
        };
    };

    /// <summary>
    /// The <c>ScoreColumnKind</c> annotation of the output columns (ML.NET's scorer annotations; the first output is the
    /// scores). Default: <c>"StructuredPrediction"</c>; the multiclass head gives ML.NET's own multiclass kind.
    /// </summary>
    internal virtual string ScoreColumnKind => "StructuredPrediction";

    /// <summary>Whether the label column is a key (the multiclass head) rather than a known-size vector of Single (default).</summary>
    internal virtual bool KeyLabel => false;

    /// <summary>
    /// What the label column's shape should be, when <paramref name="label"/> is not it (for <c>GetOutputSchema</c>'s
    /// refusal), or null when it is. Default: a key (<see cref="KeyLabel"/>) or a known-size vector of Single.
    /// </summary>
    internal virtual string? LabelShapeMismatch(SchemaShape.Column label) => KeyLabel
        ? (label.IsKey ? null : "Key")
        : (label.Kind == SchemaShape.Column.VectorKind.Vector && label.ItemType == NumberDataViewType.Single ? null : "known-size vector of Single");

    /// <summary>
    /// The loss this head trains with whatever the options' <c>Loss</c> (the regression head: least-quantile regression), built
    /// from the trainer's settings; null (default): the options' loss.
    /// </summary>
    internal virtual StructuredLoss? TrainingLoss(StructuredTrainerOptions options) => null;

    /// <summary>The name of the second output, the decoded prediction (default <c>Prediction</c>; label ranking: <c>PredictedRanking</c>).</summary>
    internal virtual string PredictionOutputName => DecisionHead.PredictionColumnName;

    /// <summary>
    /// The output columns as the trainer's <c>GetOutputSchema</c> announces them before the head is bound: their sizes and
    /// annotation values are placeholders, the first is the scores. Default: <c>Score</c> and <see cref="PredictionOutputName"/>,
    /// vectors of Single.
    /// </summary>
    internal virtual IReadOnlyList<HeadOutput> OutputShapes()
    {
        var vector = new VectorDataViewType(NumberDataViewType.Single, 1);
        var none = new DataViewSchema.Annotations.Builder().ToAnnotations();
        return [new("Score", vector, none, 1), new(PredictionOutputName, vector, none, 1)];
    }

    /// <summary>The output columns a model with these parameters appends (the first: the scores, <c>Score</c>).</summary>
    internal abstract IReadOnlyList<HeadOutput> Outputs(PerturbedModelParameters parameters);

    /// <summary>
    /// A decoder of one row's scores θ into the output buffers (one per <see cref="Outputs"/>); called from one thread
    /// at a time (each row cursor has its own).
    /// </summary>
    internal abstract HeadDecoder CreateDecoder(PerturbedModelParameters parameters);

    /// <summary>
    /// Writes the output columns as ONNX nodes computed from the scores <paramref name="theta"/> (float [batch × d]),
    /// exactly as <see cref="CreateDecoder"/> decodes them (docs/architecture.md, "ONNX export"), or throws a
    /// <see cref="NotSupportedException"/> naming what to run downstream when ONNX cannot express the head's solver.
    /// </summary>
    internal abstract void WriteOnnx(OnnxGraph graph, string theta, PerturbedModelParameters parameters);

    /// <summary>The getter of output <paramref name="output"/>; by default a Single vector read from its buffer.</summary>
    internal virtual Delegate OutputGetter(int output, Func<float[]> compute)
    {
        ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) => VectorColumns.Write(compute(), ref value);
        return getter;
    }

    /// <summary>The transformer type a model of this head is (the typed facades keep their public types).</summary>
    internal virtual PerturbedPredictionTransformer CreateTransformer(PerturbedModelParameters parameters, string featureColumnName)
        => new(parameters, featureColumnName);

    /// <summary>Writes the head's parameters (a bound head). *** Binary format *** is the head's to define and read back.</summary>
    internal abstract void Write(BinaryWriter writer);

    /// <summary>Checks a bound head's dimension against the model's output count when a model is loaded.</summary>
    internal void CheckBound(string what)
    {
        if (!IsBound) throw new InvalidOperationException($"{what} needs a head bound to a label column; {Name} is not.");
    }

    /// <inheritdoc/>
    public override string ToString() => IsBound ? $"{Name}(d={Dimension})" : Name;

    /// <summary>The Single-vector label size, or a schema-mismatch error in ML.NET's words.</summary>
    private protected static int VectorSize(DataViewSchema.Column label, string expected)
    {
        if (label.Type is not VectorDataViewType { ItemType: NumberDataViewType item, Size: > 0 } vector || item != NumberDataViewType.Single)
        {
            throw new ArgumentOutOfRangeException(nameof(label), $"Schema mismatch for label column '{label.Name}': expected {expected}, got {label.Type}");
        }
        return vector.Size;
    }

    /// <summary>The label's slot names, if it has them with the given size.</summary>
    private protected static string[]? ReadSlotNames(DataViewSchema.Column label, int size)
    {
        if (label.Annotations.Schema.GetColumnOrNull("SlotNames")?.Type is not VectorDataViewType { ItemType: TextDataViewType } type || type.Size != size) return null;
        VBuffer<ReadOnlyMemory<char>> names = default;
        label.GetSlotNames(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }

    /// <summary>Annotations with text slot names (or none).</summary>
    private protected static DataViewSchema.Annotations SlotAnnotations(string[]? names, string kind = "SlotNames")
    {
        var builder = new DataViewSchema.Annotations.Builder();
        if (names is not null)
        {
            var values = new VBuffer<ReadOnlyMemory<char>>(names.Length, names.Select(n => n.AsMemory()).ToArray());
            builder.Add(kind, new VectorDataViewType(TextDataViewType.Instance, names.Length), (ref VBuffer<ReadOnlyMemory<char>> v) => values.CopyTo(ref v));
        }
        return builder.ToAnnotations();
    }

    /// <summary>Checks a 0/1 label row.</summary>
    private protected static void RequireZeroOne(ReadOnlySpan<float> label, string column, long row)
    {
        foreach (float v in label)
        {
            if (v is not (0f or 1f)) throw new InvalidOperationException($"Column '{column}' row {row} holds {v}; labels must be 0/1 vectors.");
        }
    }

    /// <summary>Writes optional names.</summary>
    private protected static void WriteNames(BinaryWriter w, string[]? names)
    {
        w.Write(names?.Length ?? -1);
        foreach (string n in names ?? []) w.Write(n);
    }

    /// <summary>Reads what <see cref="WriteNames"/> wrote.</summary>
    private protected static string[]? ReadNames(BinaryReader r, int expected)
    {
        int count = r.ReadInt32();
        if (count == -1) return null;
        if (count != expected) throw new FormatException($"The saved head has {count} names for {expected} slots.");
        var names = new string[count];
        for (int i = 0; i < count; i++) names[i] = r.ReadString();
        return names;
    }
}
