using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Classification;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// Multiclass classification over the simplex (argmax): the label is a key, encoded one-hot. Outputs what ML.NET's
/// multiclass evaluator reads: <c>Score</c> = ŷ_ε(θ), the class probabilities of the perturbed argmax (exactly softmax(θ/ε)
/// for Gumbel noise; for normal noise a deterministic Monte-Carlo estimate with <see cref="ScoringSamples"/> samples,
/// smoothed by half a count per class so that no probability is 0), with the class names as slot names, and
/// <c>PredictedLabel</c>, a key with the label's own key values, of the label's item type (text, a number type or Boolean; none when the label's key has none).
/// </summary>
internal sealed class MulticlassHead : PerturbedHead
{
    /// <summary>Noise samples of the Monte-Carlo scores under normal noise (fixed seed, so scoring is deterministic).</summary>
    public const int ScoringSamples = 1000;

    private const string KeyValuesKind = "KeyValues";

    // The persisted codec byte: 0 text, 1 Single (the bool 'numeric keys' of earlier models reads as these two), then the
    // other item types ML.NET's MapValueToKey gives key values of; NoKeyValues when the label's key had none.
    private const byte NoKeyValues = byte.MaxValue;

    private static readonly KeyValueCodec[] KeyValueCodecs =
    [
        new TextKeyValues(),
        new KeyValues<float>(NumberDataViewType.Single),
        new KeyValues<double>(NumberDataViewType.Double),
        new KeyValues<sbyte>(NumberDataViewType.SByte),
        new KeyValues<byte>(NumberDataViewType.Byte),
        new KeyValues<short>(NumberDataViewType.Int16),
        new KeyValues<ushort>(NumberDataViewType.UInt16),
        new KeyValues<int>(NumberDataViewType.Int32),
        new KeyValues<uint>(NumberDataViewType.UInt32),
        new KeyValues<long>(NumberDataViewType.Int64),
        new KeyValues<ulong>(NumberDataViewType.UInt64),
        new KeyValues<bool>(BooleanDataViewType.Instance),
    ];

    private readonly string[] _classNames = [];
    private readonly byte _keyValues;

    /// <summary>An unbound multiclass head (the classes are read from the label's key type).</summary>
    public MulticlassHead() : base(0)
    {
    }

    private MulticlassHead(string[] classNames, byte keyValues) : base(classNames.Length)
    {
        _classNames = classNames;
        _keyValues = keyValues;
    }

    /// <inheritdoc/>
    public override string Name => "Multiclass";

    /// <summary>Class names (the label's key values as invariant-culture text; "0", "1", … for a key without values), in key order.</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <inheritdoc/>
    public override PerturbedHead Bind(DataViewSchema.Column label)
    {
        if (label.Type is not KeyDataViewType { Count: >= 2 and <= int.MaxValue } key)
        {
            throw new ArgumentOutOfRangeException(nameof(label), $"Schema mismatch for label column '{label.Name}': expected Key with at least 2 classes, got {label.Type}");
        }
        int k = (int)key.Count;
        DataViewSchema.Column? keyValues = label.Annotations.Schema.GetColumnOrNull(KeyValuesKind);
        if (keyValues is null)
        {
            return new MulticlassHead(Enumerable.Range(0, k).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray(), NoKeyValues);
        }
        if (keyValues.Value.Type is not VectorDataViewType { Size: var size } vector || size != k)
        {
            throw new ArgumentOutOfRangeException(nameof(label), $"Label column '{label.Name}' has KeyValues of type {keyValues.Value.Type}; expected a vector of {k} values, one per key.");
        }
        int codec = Array.FindIndex(KeyValueCodecs, c => c.ItemType.Equals(vector.ItemType));
        if (codec < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(label), $"Label column '{label.Name}' has KeyValues of item type {vector.ItemType}; expected text, a number type or Boolean.");
        }
        return new MulticlassHead(KeyValueCodecs[codec].Read(label), (byte)codec);
    }

    /// <inheritdoc/>
    internal override string ScoreColumnKind => MlNetInternals.MulticlassScoreColumnKind;

    /// <inheritdoc/>
    internal override bool KeyLabel => true;

    /// <summary><c>Score</c> with slot names and <c>PredictedLabel</c>, a key with key values (placeholders of size 2).</summary>
    internal override IReadOnlyList<HeadOutput> OutputShapes() =>
    [
        new("Score", new VectorDataViewType(NumberDataViewType.Single, 2), SchemaShapes.TextAnnotation("SlotNames"), 1),
        new("PredictedLabel", new KeyDataViewType(typeof(uint), 2), SchemaShapes.TextAnnotation("KeyValues"), 1),
    ];

    /// <inheritdoc/>
    public override Oracle CreateOracle() => new ArgmaxOracle(Dimension);

    /// <inheritdoc/>
    internal override DataViewSchema.Column FindLabel(DataViewSchema schema, string name) =>
        schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find label column '{name}'");

    /// <inheritdoc/>
    private protected override void EncodeLabel(ReadOnlySpan<float> label, Span<float> target, LabelKind targets, string column, long row)
        => throw new NotSupportedException("The multiclass head reads key labels (see LabelReader).");

    /// <inheritdoc/>
    internal override Func<DataViewRowCursor, LabelDecoder> LabelReader(DataViewSchema.Column label, string role, LabelKind targets) => cursor =>
    {
        ValueGetter<uint> getY = KeyGetter(cursor, label);
        uint value = 0;
        int k = Dimension;
        return (target, row) =>
        {
            getY(ref value);
            if (value == 0)
            {
                throw new Data.MissingValueException($"Column '{label.Name}' row {row} has a missing label (key 0); remove or impute such rows.");
            }
            if (value > k)
            {
                throw new InvalidOperationException($"Column '{label.Name}' row {row} holds the key {value}, beyond the label's {k} classes.");
            }
            target.Clear();
            target[(int)value - 1] = 1;
        };
    };

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

    /// <inheritdoc/>
    internal override IReadOnlyList<HeadOutput> Outputs(PerturbedModelParameters parameters)
    {
        int k = Dimension;
        var names = new VBuffer<ReadOnlyMemory<char>>(k, _classNames.Select(n => n.AsMemory()).ToArray());
        var textVector = new VectorDataViewType(TextDataViewType.Instance, k);
        var score = new DataViewSchema.Annotations.Builder();
        score.Add("SlotNames", textVector, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
        // PredictedLabel carries the label's own key values, of the label's item type (as ML.NET's multiclass scorer does),
        // so MapKeyToValue gives back the label's original type; none when the label's key had none.
        var key = new DataViewSchema.Annotations.Builder();
        if (_keyValues != NoKeyValues) KeyValueCodecs[_keyValues].Add(key, _classNames);
        return
        [
            new("Score", new VectorDataViewType(NumberDataViewType.Single, k), score.ToAnnotations(), k),
            new("PredictedLabel", new KeyDataViewType(typeof(uint), k), key.ToAnnotations(), 1),
        ];
    }

    /// <inheritdoc/>
    internal override HeadDecoder CreateDecoder(PerturbedModelParameters parameters)
    {
        double epsilon = parameters.Epsilon;
        PerturbedOptimizer? monteCarlo = parameters.Noise is GumbelNoise ? null : new PerturbedOptimizer(new ArgmaxOracle(Dimension),
            new PerturbedOptimizerOptions { Epsilon = epsilon, Samples = ScoringSamples, Noise = parameters.Noise, MaxDegreeOfParallelism = 1 });
        return (theta, outputs) =>
        {
            float[] probabilities = outputs[0];
            if (monteCarlo is not null)
            {
                // Normal noise: Monte-Carlo ŷ_ε (the same draw for every row), smoothed by half a count per class so that
                // no class has probability 0 and the log-loss stays finite: (ŷᵢM + ½)/(M + k/2).
                monteCarlo.Forward(theta, probabilities);
                double m = ScoringSamples, k = probabilities.Length;
                for (int i = 0; i < probabilities.Length; i++) probabilities[i] = (float)((probabilities[i] * m + 0.5) / (m + 0.5 * k));
            }
            else
            {
                // Gumbel noise: ŷ_ε = softmax(θ/ε) exactly, computed stably.
                double max = double.NegativeInfinity, sum = 0;
                foreach (float t in theta) max = Math.Max(max, t / epsilon);
                for (int i = 0; i < theta.Length; i++) sum += probabilities[i] = (float)Math.Exp(theta[i] / epsilon - max);
                for (int i = 0; i < theta.Length; i++) probabilities[i] = (float)(probabilities[i] / sum);
            }
            outputs[1][0] = ArgmaxOracle.IndexOfMax(theta) + 1;   // keys are 1-based
        };
    }

    /// <summary>
    /// <c>Score</c> = softmax(θ/ε) in double, as the decoder computes it (Gumbel noise: exact), rounded to float;
    /// <c>PredictedLabel</c> = 1 + the first index of the largest θ, as uint32 (ML.NET's key values).
    /// </summary>
    /// <exception cref="NotSupportedException">The model was trained with normal noise, whose <c>Score</c> is a Monte-Carlo estimate.</exception>
    internal override void WriteOnnx(OnnxGraph graph, string theta, PerturbedModelParameters parameters)
    {
        if (parameters.Noise is not GumbelNoise)
        {
            throw new NotSupportedException($"The multiclass Score of a model trained with {parameters.Noise.Name} noise is a Monte-Carlo estimate over {ScoringSamples} noise draws, which ONNX cannot reproduce; only Gumbel noise has the exact ONNX form softmax(θ/ε). Train with Gumbel noise to export the model.");
        }
        IReadOnlyList<HeadOutput> outputs = Outputs(parameters);
        // softmax without ONNX's Softmax (whose meaning changed at opset 13): exp(z − max z) / Σ, the sum as a product with ones.
        string z = graph.Node("Div", [graph.Cast(theta, OnnxType.Double), graph.Constant([parameters.Epsilon], 1)]);
        string max = graph.Node("ReduceMax", [z], ("axes", new long[] { 1 }), ("keepdims", 1L));
        string e = graph.Node("Exp", [graph.Node("Sub", [z, max])]);
        string sum = graph.Node("MatMul", [e, graph.Constant(Enumerable.Repeat(1.0, Dimension), Dimension, 1)]);
        graph.Output(outputs[0].Name, outputs[0].Type, graph.Cast(graph.Node("Div", [e, sum]), OnnxType.Float));
        string index = graph.Node("ArgMax", [theta], ("axis", 1L), ("keepdims", 1L));   // the first of equal maxima
        graph.Output(outputs[1].Name, outputs[1].Type, graph.Cast(graph.Node("Add", [index, graph.Constant([1L], 1)]), OnnxType.UInt32));
    }

    /// <inheritdoc/>
    internal override Delegate OutputGetter(int output, Func<float[]> compute)
    {
        if (output == 0) return base.OutputGetter(output, compute);
        ValueGetter<uint> predicted = (ref uint value) =>
        {
            float key = compute()[0];
            value = float.IsNaN(key) ? 0 : (uint)key;   // missing features: the missing key
        };
        return predicted;
    }

    /// <inheritdoc/>
    internal override PerturbedPredictionTransformer CreateTransformer(PerturbedModelParameters parameters, string featureColumnName)
        => new PerturbedMulticlassTransformer(parameters, featureColumnName);

    // *** Binary format ***: int k; k class names; byte key-value type (0 text, 1 Single, … in KeyValueCodecs order; 255 none).
    /// <inheritdoc/>
    internal override void Write(BinaryWriter writer)
    {
        writer.Write(Dimension);
        foreach (string name in _classNames) writer.Write(name);
        writer.Write(_keyValues);
    }

    internal static MulticlassHead Read(BinaryReader reader)
    {
        int k = reader.ReadInt32();
        if (k < 2 || k > 1_000_000) throw new FormatException($"The saved multiclass head claims {k} classes.");
        var names = new string[k];
        for (int i = 0; i < k; i++) names[i] = reader.ReadString();
        byte keyValues = reader.ReadByte();
        if (keyValues != NoKeyValues && keyValues >= KeyValueCodecs.Length) throw new FormatException($"The saved multiclass head has the unknown key-value type {keyValues}.");
        return new MulticlassHead(names, keyValues);
    }

    /// <summary>Reads a label's key values as invariant text and writes them back, typed, onto <c>PredictedLabel</c>.</summary>
    private abstract class KeyValueCodec(PrimitiveDataViewType itemType)
    {
        public PrimitiveDataViewType ItemType { get; } = itemType;

        public abstract string[] Read(DataViewSchema.Column label);

        public abstract void Add(DataViewSchema.Annotations.Builder builder, string[] names);
    }

    private sealed class TextKeyValues() : KeyValueCodec(TextDataViewType.Instance)
    {
        public override string[] Read(DataViewSchema.Column label)
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            label.GetKeyValues(ref names);
            return names.DenseValues().Select(n => n.ToString()).ToArray();
        }

        public override void Add(DataViewSchema.Annotations.Builder builder, string[] names)
        {
            var values = new VBuffer<ReadOnlyMemory<char>>(names.Length, names.Select(n => n.AsMemory()).ToArray());
            builder.Add(KeyValuesKind, new VectorDataViewType(ItemType, names.Length), (ref VBuffer<ReadOnlyMemory<char>> v) => values.CopyTo(ref v));
        }
    }

    /// <summary>Numbers and Booleans: written with the invariant culture (shortest round-trip form), parsed back exactly.</summary>
    private sealed class KeyValues<T>(PrimitiveDataViewType itemType) : KeyValueCodec(itemType) where T : IParsable<T>, IConvertible
    {
        public override string[] Read(DataViewSchema.Column label)
        {
            VBuffer<T> values = default;
            label.Annotations.GetValue(KeyValuesKind, ref values);
            return values.DenseValues().Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray();
        }

        public override void Add(DataViewSchema.Annotations.Builder builder, string[] names)
        {
            var values = new VBuffer<T>(names.Length, names.Select(n => T.Parse(n, CultureInfo.InvariantCulture)).ToArray());
            builder.Add(KeyValuesKind, new VectorDataViewType(ItemType, names.Length), (ref VBuffer<T> v) => values.CopyTo(ref v));
        }
    }
}
