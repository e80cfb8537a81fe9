using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>
/// Trains an affine model whose top-k selection or perfect matching of its scores matches 0/1 labels, with the
/// perturbed Fenchel-Young loss (or squared, perturbed squared, blackbox). Created by
/// <c>mlContext.StructuredPrediction().Trainers.TopK(...)</c> or <c>.Matching(...)</c>.
/// </summary>
public sealed class PerturbedStructuredTrainer : IEstimator<StructuredPredictionTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly PerturbedStructuredOptions _options;
    private readonly StructuredHeadKind _kind;
    private readonly int _parameter;
    private readonly int _seed;

    internal PerturbedStructuredTrainer(IHostEnvironment env, StructuredHeadKind kind, int parameter, PerturbedStructuredOptions options, int seed)
    {
        if (parameter < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(parameter), parameter, kind == StructuredHeadKind.TopK ? "k must be at least 1." : "n must be at least 1.");
        }
        _env = env;
        _kind = kind;
        _parameter = parameter;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _seed = seed;
    }

    /// <summary>Trains on <paramref name="input"/>.</summary>
    public StructuredPredictionTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        DataViewSchema.Column features = Sorting.SoftSortingTransformer.CheckInput(input.Schema, _options.FeatureColumnName);
        DataViewSchema.Column label = Sorting.SoftSortingTransformer.CheckInput(input.Schema, _options.LabelColumnName);
        int p = ((VectorDataViewType)features.Type).Size, d = ((VectorDataViewType)label.Type).Size;
        if (_kind == StructuredHeadKind.TopK && _parameter > d)
        {
            throw new ArgumentOutOfRangeException(nameof(input), _parameter, $"k = {_parameter} is larger than the {d} labels of column '{label.Name}'.");
        }
        if (_kind == StructuredHeadKind.Matching && (long)_parameter * _parameter != d)
        {
            throw new ArgumentOutOfRangeException(nameof(input),
                $"Schema mismatch for label column '{label.Name}': expected Vector<Single, {(long)_parameter * _parameter}> (an {_parameter}×{_parameter} assignment), got {label.Type}");
        }
        var head = new StructuredHead(_kind, _parameter, d);
        var x = new List<float>();
        var y = new List<float>();
        var xRow = new float[p];
        var yRow = new float[d];
        VBuffer<float> buffer = default;
        using (DataViewRowCursor cursor = input.GetRowCursor([features, label]))
        {
            ValueGetter<VBuffer<float>> getX = cursor.GetGetter<VBuffer<float>>(features), getY = cursor.GetGetter<VBuffer<float>>(label);
            while (cursor.MoveNext())
            {
                getX(ref buffer);
                VectorColumns.ReadFinite(buffer, xRow, features.Name, cursor.Position, "structured training");
                getY(ref buffer);
                VectorColumns.ReadFinite(buffer, yRow, label.Name, cursor.Position, "structured training");
                head.CheckLabel(yRow, label.Name, cursor.Position);
                x.AddRange(xRow);
                y.AddRange(yRow);
            }
        }
        if (x.Count == 0)
        {
            throw new InvalidOperationException("The training data has no rows.");
        }
        AffineModel model = StructuredTrainer.Train(head.CreateOracle(), x.ToArray(), y.ToArray(), p, new StructuredTrainerOptions
        {
            Loss = _options.Loss, Epsilon = _options.Epsilon, Samples = _options.Samples, LearningRate = _options.LearningRate,
            L2 = _options.L2, Optimizer = _options.Optimizer, Epochs = _options.Epochs, BatchSize = _options.BatchSize,
            BlackboxLambda = _options.BlackboxLambda, Seed = _seed,
        });
        return new StructuredPredictionTransformer(model, head, features.Name);
    }

    /// <summary>The output schema: the input plus Score and Prediction (Single vectors).</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var result = inputSchema.ToDictionary(c => c.Name);
        foreach (string name in new[] { _options.FeatureColumnName, _options.LabelColumnName })
        {
            if (inputSchema.LastOrDefault(c => c.Name == name) is not { Name: not null })
            {
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Could not find input column '{name}'");
            }
        }
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Score", new VectorDataViewType(NumberDataViewType.Single, 1));
        builder.AddColumn(StructuredPredictionTransformer.PredictionColumnName, new VectorDataViewType(NumberDataViewType.Single, 1));
        foreach (SchemaShape.Column c in ModelPersistence.MlNetInternals.ShapeOf(builder.ToSchema())) result[c.Name] = c;
        return new SchemaShape(result.Values);
    }
}
