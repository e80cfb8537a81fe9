using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Classification;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// Multiclass classification over the simplex (argmax): the label is a key, encoded one-hot. Outputs what ML.NET's
/// multiclass evaluator reads: <c>Score</c> = ŷ_ε(θ), the class probabilities of the perturbed argmax (exactly softmax(θ/ε)
/// for Gumbel noise; for normal noise a deterministic Monte-Carlo estimate with <see cref="ScoringSamples"/> samples,
/// smoothed by half a count per class so that no probability is 0), with the class names as slot names, and
/// <c>PredictedLabel</c>, a key with the label's own key values (text or numbers, as the label had them).
/// </summary>
public sealed class MulticlassHead : PerturbedHead
{
    /// <summary>Noise samples of the Monte-Carlo scores under normal noise (fixed seed, so scoring is deterministic).</summary>
    public const int ScoringSamples = 1000;

    private readonly string[] _classNames = [];
    private readonly bool _numericKeys;

    /// <summary>An unbound multiclass head (the classes are read from the label's key type).</summary>
    public MulticlassHead() : base(0)
    {
    }

    private MulticlassHead(string[] classNames, bool numericKeys) : base(classNames.Length)
    {
        _classNames = classNames;
        _numericKeys = numericKeys;
    }

    /// <inheritdoc/>
    public override string Name => "Multiclass";

    /// <summary>Class names (the label's key values as text), in key order.</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <inheritdoc/>
    public override PerturbedHead Bind(DataViewSchema.Column label)
    {
        if (label.Type is not KeyDataViewType { Count: >= 2 and <= int.MaxValue } key)
        {
            throw new ArgumentOutOfRangeException(nameof(label), $"Schema mismatch for label column '{label.Name}': expected Key with at least 2 classes, got {label.Type}");
        }
        int k = (int)key.Count;
        DataViewSchema.Column? keyValues = label.Annotations.Schema.GetColumnOrNull("KeyValues");
        if (keyValues?.Type is VectorDataViewType { ItemType: TextDataViewType } text && text.Size == k)
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            label.GetKeyValues(ref names);
            return new MulticlassHead(names.DenseValues().Select(n => n.ToString()).ToArray(), numericKeys: false);
        }
        if (keyValues?.Type is VectorDataViewType { ItemType: NumberDataViewType number } numbers && number == NumberDataViewType.Single && numbers.Size == k)
        {
            VBuffer<float> values = default;
            label.Annotations.GetValue("KeyValues", ref values);
            return new MulticlassHead(values.DenseValues().Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).ToArray(), numericKeys: true);
        }
        return new MulticlassHead(Enumerable.Range(0, k).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), numericKeys: false);
    }

    /// <inheritdoc/>
    public override Oracle CreateOracle() => new ArgmaxOracle(Dimension);

    /// <inheritdoc/>
    internal override DataViewSchema.Column FindLabel(DataViewSchema schema, string name) =>
        schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find label column '{name}'");

    /// <inheritdoc/>
    protected internal override void EncodeLabel(ReadOnlySpan<float> label, Span<float> target, LabelTargets targets, string column, long row)
        => throw new NotSupportedException("The multiclass head reads key labels (see LabelReader).");

    /// <inheritdoc/>
    internal override Func<DataViewRowCursor, LabelDecoder> LabelReader(DataViewSchema.Column label, string role, LabelTargets targets) => cursor =>
    {
        ValueGetter<uint> getY = KeyGetter(cursor, label);
        uint value = 0;
        int k = Dimension;
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
    protected internal override IReadOnlyList<HeadOutput> Outputs(PerturbedModelParameters parameters)
    {
        int k = Dimension;
        var names = new VBuffer<ReadOnlyMemory<char>>(k, _classNames.Select(n => n.AsMemory()).ToArray());
        var textVector = new VectorDataViewType(TextDataViewType.Instance, k);
        var score = new DataViewSchema.Annotations.Builder();
        score.Add("SlotNames", textVector, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
        var key = new DataViewSchema.Annotations.Builder();
        if (_numericKeys)
        {
            // The label's own numeric key values, so MapKeyToValue gives back a Single column.
            var numbers = new VBuffer<float>(k, _classNames.Select(n => float.Parse(n, System.Globalization.CultureInfo.InvariantCulture)).ToArray());
            key.Add("KeyValues", new VectorDataViewType(NumberDataViewType.Single, k), (ref VBuffer<float> v) => numbers.CopyTo(ref v));
        }
        else
        {
            key.Add("KeyValues", textVector, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
        }
        return
        [
            new("Score", new VectorDataViewType(NumberDataViewType.Single, k), score.ToAnnotations(), k),
            new("PredictedLabel", new KeyDataViewType(typeof(uint), k), key.ToAnnotations(), 1),
        ];
    }

    /// <inheritdoc/>
    protected internal override HeadDecoder CreateDecoder(PerturbedModelParameters parameters)
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
    protected internal override Delegate OutputGetter(int output, Func<float[]> compute)
    {
        if (output == 0) return base.OutputGetter(output, compute);
        ValueGetter<uint> predicted = (ref uint value) => value = (uint)compute()[0];
        return predicted;
    }

    /// <inheritdoc/>
    protected internal override PerturbedPredictionTransformer CreateTransformer(PerturbedModelParameters parameters, string featureColumnName)
        => new PerturbedMulticlassTransformer(parameters, featureColumnName);

    // *** Binary format ***: int k; k class names; bool numeric key values.
    /// <inheritdoc/>
    protected internal override void Write(BinaryWriter writer)
    {
        writer.Write(Dimension);
        foreach (string name in _classNames) writer.Write(name);
        writer.Write(_numericKeys);
    }

    internal static MulticlassHead Read(BinaryReader reader)
    {
        int k = reader.ReadInt32();
        if (k < 2 || k > 1_000_000) throw new FormatException($"The saved multiclass head claims {k} classes.");
        var names = new string[k];
        for (int i = 0; i < k; i++) names[i] = reader.ReadString();
        return new MulticlassHead(names, reader.ReadBoolean());
    }
}
