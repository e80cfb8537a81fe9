using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// The one perturbed trainer (docs/architecture.md, "ML.NET"): binds its head to the label column, reads the features
/// and the head's targets, trains a score model through the core training loop (<c>StructuredTrainer.Fit</c>: any
/// loss, any backend), and returns the head's transformer. The label-ranking and multiclass trainers are this class with
/// their head; every other head trains through <see cref="PerturbedTrainer"/>.
/// </summary>
/// <typeparam name="TTransformer">The transformer the head creates.</typeparam>
public class PerturbedTrainer<TTransformer> : IEstimator<TTransformer> where TTransformer : PerturbedPredictionTransformer
{
    private readonly IHost _host;
    private readonly PerturbedHead _head;
    private readonly PerturbedTrainerOptions _options;
    private readonly int _seed;

    private protected PerturbedTrainer(IHost host, PerturbedHead head, PerturbedTrainerOptions options)
    {
        _host = host ?? throw new ArgumentNullException(nameof(host));
        _head = head ?? throw new ArgumentNullException(nameof(head));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _seed = options.Seed ?? TrainingRun.NextSeed(host);
        options.Validate(_seed);   // every option checked now, with its own name and value
        if (!(options.ValidationFraction >= 0 && options.ValidationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options.ValidationFraction), options.ValidationFraction,
                $"'{nameof(options.ValidationFraction)}' must be in [0, 1), got {options.ValidationFraction}.");
        }
    }

    /// <summary>The head (unbound: it binds to the label column at <see cref="Fit(IDataView)"/>).</summary>
    public PerturbedHead Head => _head;

    /// <summary>Trains on <paramref name="input"/>.</summary>
    public TTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>Trains on <paramref name="input"/>, stopping early on the loss over <paramref name="validationData"/> (same columns).</summary>
    public TTransformer Fit(IDataView input, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var run = new TrainingRun(_host, _options.Progress);
        (Func<Func<long, bool>?, DataViewRowStream> stream, PerturbedHead head, string featureName) =
            Rows(input, $"{_head.Name} training", _options.ExampleWeightColumnName, sparse: null);
        long budget = (long)_options.InMemoryBudgetMegabytes << 20;
        (TrainingSource training, TrainingSource? validation) = TrainingData.Open(stream, _options.DataLoading, budget, _options.ShufflePoolSize,
            validationData is null ? _options.ValidationFraction : 0, _seed, run);
        if (validationData is not null)
        {
            (Func<Func<long, bool>?, DataViewRowStream> vStream, PerturbedHead vHead, _) =
                Rows(validationData, $"{_head.Name} validation", null, training.IsSparse);
            int vp = vStream(null).FeatureCount;
            if (vp != training.FeatureCount || vHead.Dimension != head.Dimension)
            {
                throw new ArgumentException($"Validation data has {vp} features and {vHead.Dimension} label slots, training data {training.FeatureCount} and {head.Dimension}.", nameof(validationData));
            }
            // Read as the training rows are (in memory or streamed, by the same rule); a validation pass keeps its order.
            validation = TrainingData.Open(vStream, _options.DataLoading, budget, poolSize: 1, validationFraction: 0, _seed, run).Training;
        }
        IScoreModel model = _options.Fit(head, training, validation, _seed, run);
        var parameters = new PerturbedModelParameters(model, head, _options.Epsilon, _options.TrainingNoise);
        return (TTransformer)head.CreateTransformer(parameters, featureName);
    }

    // The data view's rows for the bound head, as a stream factory taking an optional position filter.
    private (Func<Func<long, bool>?, DataViewRowStream> Stream, PerturbedHead Head, string Features) Rows(IDataView data, string role, string? weightColumnName, bool? sparse)
    {
        DataViewSchema.Column label = _head.FindLabel(data.Schema, _options.LabelColumnName);
        PerturbedHead head = _head.Bind(label);
        LabelKind targets = StructuredLosses.Get(_options.Loss).Targets;
        DataViewSchema.Column features = VectorColumns.Require(data.Schema, _options.FeatureColumnName);
        DataViewSchema.Column? weight = null;
        if (weightColumnName is not null)
        {
            weight = data.Schema.GetColumnOrNull(weightColumnName)
                ?? throw new ArgumentOutOfRangeException(nameof(weightColumnName), $"Could not find weight column '{weightColumnName}'");
            if (weight.Value.Type != NumberDataViewType.Single)
            {
                throw new ArgumentOutOfRangeException(nameof(weightColumnName), $"Schema mismatch for weight column '{weightColumnName}': expected Single, got {weight.Value.Type}");
            }
        }
        Func<DataViewRowCursor, LabelDecoder> decoder = head.LabelReader(label, role, targets);
        bool? isSparse = sparse;
        DataViewRowStream Make(Func<long, bool>? keep)
        {
            var stream = new DataViewRowStream(data, features, label, head.Dimension, decoder, weight, role, _options.ThrowOnMissingValues, keep, isSparse);
            isSparse = stream.IsSparse;   // every stream of this data agrees
            return stream;
        }
        return (Make, head, features.Name);
    }

    /// <summary>The output schema: the input plus the head's columns.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaShapes.RequireSingleVector(inputSchema, _options.FeatureColumnName);
        SchemaShape.Column label = SchemaShapes.Find(inputSchema, _options.LabelColumnName);
        if (_head.LabelShapeMismatch(label) is string expected)
        {
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"Schema mismatch for label column '{_options.LabelColumnName}': expected {expected}, got {label.Kind} of {label.ItemType}");
        }
        var outputs = new DataViewSchema.Builder();
        DataViewSchema none = new DataViewSchema.Builder().ToSchema();
        // The scorer annotations the transformer adds (their values depend on the data; a shape only names them).
        DataViewSchema.Annotations Scorer(DataViewSchema.Annotations own, string valueKind) =>
            ModelPersistence.MlNetInternals.ScorerAnnotations(none, own, _head.ScoreColumnKind, valueKind);
        IReadOnlyList<HeadOutput> shapes = _head.OutputShapes();
        for (int i = 0; i < shapes.Count; i++)
        {
            outputs.AddColumn(shapes[i].Name, shapes[i].Type, Scorer(shapes[i].Annotations,
                i == 0 ? ModelPersistence.MlNetInternals.ScoreValueKind : ModelPersistence.MlNetInternals.PredictedValueKind));
        }
        return SchemaShapes.Append(inputSchema, outputs);
    }
}
