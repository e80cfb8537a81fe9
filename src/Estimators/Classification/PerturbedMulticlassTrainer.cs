using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Classification;

/// <summary>
/// Multiclass classification with the perturbed Fenchel-Young loss over the simplex (Argmax head; Berthet et al. 2020):
/// an affine model trained by mini-batch Adam/SGD. Created by <c>mlContext.MulticlassClassification.Trainers.PerturbedFenchelYoung()</c>.
/// </summary>
public sealed class PerturbedMulticlassTrainer : IEstimator<PerturbedMulticlassTransformer>
{
    private readonly IHost _host;
    private readonly PerturbedMulticlassOptions _options;
    private readonly int _seed;

    internal PerturbedMulticlassTrainer(IHost host, PerturbedMulticlassOptions options)
    {
        _host = host;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.Noise is not (GumbelNoise or NormalNoise))
        {
            throw new ArgumentException($"The multiclass trainer supports Gumbel and normal noise (the model saves its noise by name), got {options.Noise?.Name ?? "null"}.", nameof(options));
        }
        _seed = options.Seed ?? TrainingRun.NextSeed(host);
    }

    /// <summary>Trains on <paramref name="input"/>.</summary>
    public PerturbedMulticlassTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>Trains on <paramref name="input"/>, stopping early on the loss over <paramref name="validationData"/> (same columns).</summary>
    public PerturbedMulticlassTransformer Fit(IDataView input, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(input);
        (float[] x, float[] y, int p, int k, DataViewSchema.Column label, string featureName) = Read(input, "multiclass training");
        float[] vx = [], vy = [];
        if (validationData is not null)
        {
            (vx, vy, int vp, int vk, _, _) = Read(validationData, "multiclass validation");
            if (vp != p || vk != k)
            {
                throw new ArgumentException($"Validation data has {vp} features and {vk} classes, training data {p} and {k}.", nameof(validationData));
            }
        }
        using var run = new TrainingRun(_host);
        IScoreModel model = _options.Fit(new ArgmaxOracle(k), x, y, p, _seed, vx, vy, run);
        return new PerturbedMulticlassTransformer(model, _options.Epsilon, _options.Noise, featureName, ClassNames(label, k));
    }

    /// <summary>Reads features and key labels (as one-hot targets); key 0 (missing) is an error naming the row.</summary>
    private (float[] X, float[] Y, int P, int K, DataViewSchema.Column Label, string Features) Read(IDataView input, string role)
    {
        DataViewSchema.Column label = input.Schema.GetColumnOrNull(_options.LabelColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(input), $"Could not find label column '{_options.LabelColumnName}'");
        if (label.Type is not KeyDataViewType { Count: >= 2 and <= int.MaxValue } key)
        {
            throw new ArgumentOutOfRangeException(nameof(input),
                $"Schema mismatch for label column '{label.Name}': expected Key with at least 2 classes, got {label.Type}");
        }
        int k = (int)key.Count;
        (float[] x, float[] y, int p) = TrainingData.Read(input, _options.FeatureColumnName, label, k, cursor =>
        {
            ValueGetter<uint> getY = KeyGetter(cursor, label);
            uint value = 0;
            return (target, row) =>
            {
                getY(ref value);
                if (value == 0 || value > k)
                {
                    throw new InvalidOperationException($"Column '{label.Name}' row {row} has a missing label (key 0); remove or impute such rows.");
                }
                target.Clear();
                target[(int)value - 1] = 1;
            };
        }, role);
        return (x, y, p, k, label, input.Schema[_options.FeatureColumnName].Name);
    }

    /// <summary>A getter of the key as uint, whatever the key's raw type.</summary>
    private static ValueGetter<uint> KeyGetter(DataViewRow row, DataViewSchema.Column column)
    {
        Type raw = column.Type.RawType;
        if (raw == typeof(uint)) return row.GetGetter<uint>(column);
        if (raw == typeof(byte)) { var g = row.GetGetter<byte>(column); byte b = 0; return (ref uint v) => { g(ref b); v = b; }; }
        if (raw == typeof(ushort)) { var g = row.GetGetter<ushort>(column); ushort s = 0; return (ref uint v) => { g(ref s); v = s; }; }
        var g64 = row.GetGetter<ulong>(column);
        ulong l = 0;
        return (ref uint v) => { g64(ref l); v = l > uint.MaxValue ? uint.MaxValue : (uint)l; };
    }

    /// <summary>The label's key values as text, or "0", "1", … without them.</summary>
    private static string[] ClassNames(DataViewSchema.Column label, int k)
    {
        DataViewSchema.Column? keyValues = label.Annotations.Schema.GetColumnOrNull("KeyValues");
        if (keyValues?.Type is VectorDataViewType { ItemType: TextDataViewType })
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            label.GetKeyValues(ref names);
            string[] text = names.DenseValues().Select(n => n.ToString()).ToArray();
            if (text.Length == k) return text;
        }
        if (keyValues?.Type is VectorDataViewType { ItemType: NumberDataViewType number } && number == NumberDataViewType.Single)
        {
            VBuffer<float> values = default;
            label.Annotations.GetValue("KeyValues", ref values);
            float[] numbers = values.DenseValues().ToArray();
            if (numbers.Length == k) return numbers.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
        return Enumerable.Range(0, k).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>The output schema: the input plus Score (Single vector) and PredictedLabel (key).</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaShapes.RequireSingleVector(inputSchema, _options.FeatureColumnName);
        if (!SchemaShapes.Find(inputSchema, _options.LabelColumnName).IsKey)
        {
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for label column '{_options.LabelColumnName}': expected Key");
        }
        var outputs = new DataViewSchema.Builder();
        outputs.AddColumn("Score", new VectorDataViewType(NumberDataViewType.Single, 2), SchemaShapes.TextAnnotation("SlotNames"));
        outputs.AddColumn("PredictedLabel", new KeyDataViewType(typeof(uint), 2), SchemaShapes.TextAnnotation("KeyValues"));
        return SchemaShapes.Append(inputSchema, outputs);
    }
}
