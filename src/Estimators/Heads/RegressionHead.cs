using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// Scalar regression trained by least-quantile regression (Cuturi, Teboul &amp; Vert 2019, §5; the head of
/// <c>mlContext.StructuredPrediction().Trainers.LeastQuantileRegression</c>): the label is a Single response z, the model
/// gives one output θ, and training minimizes the soft τ-quantile of the mini-batch's absolute residuals |θ − z|
/// (<see cref="StructuredLoss.LeastQuantile"/>, settings <see cref="StructuredLossOptions.QuantileLevel"/>,
/// <see cref="StructuredLossOptions.QuantileWidth"/>, <see cref="StructuredLossOptions.SoftRankMethod"/> and ε). Its one
/// output is <c>Score</c>, a Single with ML.NET's regression scorer annotations, so <c>mlContext.Regression.Evaluate</c>
/// reads it. The oracle is the identity of one value (the prediction is the score).
/// </summary>
internal sealed class RegressionHead : PerturbedHead
{
    /// <summary>An unbound head (it binds to a Single label column, one score).</summary>
    public RegressionHead() : this(0)
    {
    }

    private RegressionHead(int dimension) : base(dimension)
    {
    }

    /// <inheritdoc/>
    public override string Name => "Regression";

    /// <inheritdoc/>
    public override PerturbedHead Bind(DataViewSchema.Column label) => label.Type == NumberDataViewType.Single
        ? new RegressionHead(1)
        : throw new ArgumentOutOfRangeException(nameof(label), $"Schema mismatch for label column '{label.Name}': expected Single, got {label.Type}");

    /// <inheritdoc/>
    internal override DataViewSchema.Column FindLabel(DataViewSchema schema, string name) =>
        schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find label column '{name}'");

    /// <inheritdoc/>
    internal override string? LabelShapeMismatch(SchemaShape.Column label) =>
        label.Kind == SchemaShape.Column.VectorKind.Scalar && label.ItemType == NumberDataViewType.Single ? null : "Single";

    /// <inheritdoc/>
    public override Oracle CreateOracle() => Oracle.Create(1, 1, static (theta, y) => theta.CopyTo(y), "Regression");

    /// <summary>The least-quantile loss of the trainer's settings (checked there, with their names).</summary>
    internal override StructuredLoss? TrainingLoss(StructuredTrainerOptions options) => StructuredLoss.LeastQuantile(options);

    /// <inheritdoc/>
    private protected override void EncodeLabel(ReadOnlySpan<float> label, Span<float> target, LabelKind targets, string column, long row)
        => throw new NotSupportedException("The regression head reads Single labels (see LabelReader).");

    /// <summary>Reads the Single label; NaN or ±∞ is a missing value (the row is skipped, or refused with ThrowOnMissingValues).</summary>
    internal override Func<DataViewRowCursor, Data.LabelDecoder> LabelReader(DataViewSchema.Column label, string role, LabelKind targets) => cursor =>
    {
        ValueGetter<float> get = cursor.GetGetter<float>(label);
        float value = 0;
        return (target, row) =>
        {
            get(ref value);
            if (!float.IsFinite(value))
            {
                throw new Data.MissingValueException($"Column '{label.Name}' holds {value} at row {row}: {role} needs finite responses.");
            }
            target[0] = value;
        };
    };

    /// <inheritdoc/>
    internal override string ScoreColumnKind => MlNetInternals.RegressionScoreColumnKind;

    /// <summary><c>Score</c>, a Single.</summary>
    internal override IReadOnlyList<HeadOutput> OutputShapes() => [Score()];

    /// <inheritdoc/>
    internal override IReadOnlyList<HeadOutput> Outputs(PerturbedModelParameters parameters) => [Score()];

    private static HeadOutput Score() => new("Score", NumberDataViewType.Single, new DataViewSchema.Annotations.Builder().ToAnnotations(), 1);

    /// <inheritdoc/>
    internal override HeadDecoder CreateDecoder(PerturbedModelParameters parameters) => static (theta, outputs) => outputs[0][0] = theta[0];

    /// <summary>The Single score.</summary>
    internal override Delegate OutputGetter(int output, Func<float[]> compute)
    {
        ValueGetter<float> score = (ref float value) => value = compute()[0];
        return score;
    }

    /// <summary><c>Score</c> = θ.</summary>
    internal override void WriteOnnx(OnnxGraph graph, string theta, PerturbedModelParameters parameters) =>
        graph.Output("Score", NumberDataViewType.Single, theta);

    // *** Binary format ***: int d (1).
    internal override void Write(BinaryWriter writer)
    {
        CheckBound("Saving a regression model");
        writer.Write(Dimension);
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    internal static RegressionHead Read(BinaryReader reader)
    {
        int d = reader.ReadInt32();
        return d == 1 ? new RegressionHead(1) : throw new FormatException($"The saved regression head claims {d} scores; it has one.");
    }
}
