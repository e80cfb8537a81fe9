using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// The one perturbed trainer (docs/architecture.md, "ML.NET"): binds its head to the label column, reads the features
/// and the head's targets, trains a score model through the core training loop (<c>StructuredTrainer.Fit</c>: any
/// loss, any backend), and returns the head's transformer. The label-ranking, multiclass and structured trainers are
/// this class with their head.
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
        (float[] x, float[] y, float[] w, int p, PerturbedHead head, string featureName) = Read(input, $"{_head.Name} training", _options.ExampleWeightColumnName);
        float[] vx = [], vy = [];
        if (validationData is not null)
        {
            (vx, vy, _, int vp, PerturbedHead vHead, _) = Read(validationData, $"{_head.Name} validation", null);
            if (vp != p || vHead.Dimension != head.Dimension)
            {
                throw new ArgumentException($"Validation data has {vp} features and {vHead.Dimension} label slots, training data {p} and {head.Dimension}.", nameof(validationData));
            }
        }
        else if (_options.ValidationFraction > 0)
        {
            (x, y, w, vx, vy) = HoldOut(x, y, w, p, head.Dimension, _options.ValidationFraction, _seed);
        }
        IScoreModel model = _options.Fit(head.CreateOracle(), x, y, w, p, _seed, vx, vy, run);
        var parameters = new PerturbedModelParameters(model, head, _options.Epsilon, _options.TrainingNoise);
        return (TTransformer)head.CreateTransformer(parameters, featureName);
    }

    /// <summary>Splits rows by a seeded shuffle: the first ⌈f·n⌉ of the permutation validate, the rest train (at least one each).</summary>
    private static (float[] X, float[] Y, float[] W, float[] VX, float[] VY) HoldOut(float[] x, float[] y, float[] w, int p, int d, double fraction, int seed)
    {
        int n = x.Length / p;
        if (n < 2) throw new InvalidOperationException("A validation fraction needs at least two training rows.");
        int held = Math.Clamp((int)Math.Ceiling(fraction * n), 1, n - 1);
        int[] order = Enumerable.Range(0, n).ToArray();
        new System.Random(seed ^ 0x5EED).Shuffle(order);
        float[] Take(float[] source, int width, IEnumerable<int> rows) => rows.SelectMany(r => source.AsSpan(r * width, width).ToArray()).ToArray();
        int[] valid = order[..held], train = order[held..];
        return (Take(x, p, train), Take(y, d, train), w.Length == 0 ? w : Take(w, 1, train), Take(x, p, valid), Take(y, d, valid));
    }

    private (float[] X, float[] Y, float[] W, int P, PerturbedHead Head, string Features) Read(IDataView data, string role, string? weightColumn)
    {
        DataViewSchema.Column label = _head.FindLabel(data.Schema, _options.LabelColumnName);
        PerturbedHead head = _head.Bind(label);
        LabelTargets targets = _options.Loss == StructuredLossKind.SpoPlus ? LabelTargets.Costs : LabelTargets.Solutions;
        (float[] x, float[] y, float[] w, int p) = TrainingData.Read(data, _options.FeatureColumnName, label, head.Dimension, head.LabelReader(label, role, targets), role, weightColumn);
        return (x, y, w, p, head, data.Schema[_options.FeatureColumnName].Name);
    }

    /// <summary>The output schema: the input plus the head's columns.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaShapes.RequireSingleVector(inputSchema, _options.FeatureColumnName);
        SchemaShape.Column label = SchemaShapes.Find(inputSchema, _options.LabelColumnName);
        bool keyLabel = _head is MulticlassHead;
        if (keyLabel ? !label.IsKey : label.Kind != SchemaShape.Column.VectorKind.Vector || label.ItemType != NumberDataViewType.Single)
        {
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"Schema mismatch for label column '{_options.LabelColumnName}': expected {(keyLabel ? "Key" : "known-size vector of Single")}, got {label.Kind} of {label.ItemType}");
        }
        var outputs = new DataViewSchema.Builder();
        DataViewSchema none = new DataViewSchema.Builder().ToSchema();
        // The scorer annotations the transformer adds (their values depend on the data; a shape only names them).
        DataViewSchema.Annotations Scorer(DataViewSchema.Annotations own, string valueKind) =>
            ModelPersistence.MlNetInternals.ScorerAnnotations(none, own, _head.ScoreColumnKind, valueKind);
        DataViewSchema.Annotations empty = new DataViewSchema.Annotations.Builder().ToAnnotations();
        if (keyLabel)
        {
            outputs.AddColumn("Score", new VectorDataViewType(NumberDataViewType.Single, 2), Scorer(SchemaShapes.TextAnnotation("SlotNames"), ModelPersistence.MlNetInternals.ScoreValueKind));
            outputs.AddColumn("PredictedLabel", new KeyDataViewType(typeof(uint), 2), Scorer(SchemaShapes.TextAnnotation("KeyValues"), ModelPersistence.MlNetInternals.PredictedValueKind));
        }
        else
        {
            outputs.AddColumn("Score", new VectorDataViewType(NumberDataViewType.Single, 1), Scorer(empty, ModelPersistence.MlNetInternals.ScoreValueKind));
            outputs.AddColumn(_head is RankingHead ? Ranking.LabelRankingTransformer.PredictedRankingColumnName : DecisionHead.PredictionColumnName,
                new VectorDataViewType(NumberDataViewType.Single, 1), Scorer(empty, ModelPersistence.MlNetInternals.PredictedValueKind));
        }
        return SchemaShapes.Append(inputSchema, outputs);
    }
}

/// <summary>
/// The perturbed trainer over any head — shortest paths, knapsack, a user's oracle (<see cref="PerturbedHeads.RegisterOracle"/>)
/// — created by <c>mlContext.StructuredPrediction().Trainers.Perturbed(head, options)</c>.
/// </summary>
public sealed class PerturbedTrainer : PerturbedTrainer<PerturbedPredictionTransformer>
{
    internal PerturbedTrainer(IHost host, PerturbedHead head, PerturbedTrainerOptions options) : base(host, head, options)
    {
    }
}
