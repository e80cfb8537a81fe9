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
    private readonly IHost _host;
    private readonly PerturbedStructuredOptions _options;
    private readonly StructuredHeadKind _kind;
    private readonly int _parameter;
    private readonly int _seed;

    internal PerturbedStructuredTrainer(IHost host, StructuredHeadKind kind, int parameter, PerturbedStructuredOptions options)
    {
        if (parameter < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(parameter), parameter, kind == StructuredHeadKind.TopK ? "k must be at least 1." : "n must be at least 1.");
        }
        _host = host;
        _kind = kind;
        _parameter = parameter;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _seed = options.Seed ?? TrainingRun.NextSeed(host);
    }

    /// <summary>Trains on <paramref name="input"/>.</summary>
    public StructuredPredictionTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>Trains on <paramref name="input"/>, stopping early on the loss over <paramref name="validationData"/> (same columns).</summary>
    public StructuredPredictionTransformer Fit(IDataView input, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(input);
        (float[] x, float[] y, int p, StructuredHead head, string featureName) = Read(input, "structured training");
        float[] vx = [], vy = [];
        if (validationData is not null)
        {
            (vx, vy, int vp, StructuredHead vHead, _) = Read(validationData, "structured validation");
            if (vp != p || vHead != head)
            {
                throw new ArgumentException($"Validation data has {vp} features and {vHead.Dimension} label slots, training data {p} and {head.Dimension}.", nameof(validationData));
            }
        }
        using var run = new TrainingRun(_host);
        IScoreModel model = _options.Fit(head.CreateOracle(), x, y, p, _seed, vx, vy, run);
        return new StructuredPredictionTransformer(model, head, featureName);
    }

    private (float[] X, float[] Y, int P, StructuredHead Head, string Features) Read(IDataView input, string role)
    {
        DataViewSchema.Column label = VectorColumns.Require(input.Schema, _options.LabelColumnName);
        int d = ((VectorDataViewType)label.Type).Size;
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
        (float[] x, float[] y, int p) = TrainingData.Read(input, _options.FeatureColumnName, label, d,
            TrainingData.VectorLabel(label, role, (row, position) => head.CheckLabel(row, label.Name, position)), role);
        return (x, y, p, head, input.Schema[_options.FeatureColumnName].Name);
    }

    /// <summary>The output schema: the input plus Score and Prediction (Single vectors).</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaShapes.RequireSingleVector(inputSchema, _options.FeatureColumnName);
        SchemaShapes.RequireSingleVector(inputSchema, _options.LabelColumnName);
        var outputs = new DataViewSchema.Builder();
        outputs.AddColumn("Score", new VectorDataViewType(NumberDataViewType.Single, 1));
        outputs.AddColumn(StructuredPredictionTransformer.PredictionColumnName, new VectorDataViewType(NumberDataViewType.Single, 1));
        return SchemaShapes.Append(inputSchema, outputs);
    }
}
