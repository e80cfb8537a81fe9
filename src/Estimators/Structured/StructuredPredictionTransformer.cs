using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>
/// A trained top-k or matching model: appends <c>Score</c> (θ = W x + b) and <c>Prediction</c> (the head's solution on θ:
/// a 0/1 vector with k ones, or an n×n permutation matrix, row-major). Saves into ML.NET zips.
/// </summary>
public sealed class StructuredPredictionTransformer : RowMappingTransformer
{
    internal const string LoaderSignature = "PerturbedStructured";
    private const string ModelSignature = "PRTBSTRC";
    private const uint Version = 0x00010001;

    /// <summary>Name of the predicted structure column.</summary>
    public const string PredictionColumnName = "Prediction";

    private readonly AffineModel _model;
    private readonly StructuredHead _head;
    private readonly Oracle _oracle;

    internal StructuredPredictionTransformer(AffineModel model, StructuredHead head, string featureColumnName)
    {
        _model = model;
        _head = head;
        _oracle = head.CreateOracle();
        FeatureColumnName = featureColumnName;
    }

    /// <summary>The features column.</summary>
    public string FeatureColumnName { get; }

    /// <summary>Top-k or matching.</summary>
    public StructuredHeadKind Head => _head.Kind;

    /// <summary>k (top-k) or n (matching).</summary>
    public int HeadParameter => _head.Parameter;

    /// <summary>The affine score model.</summary>
    public AffineModel Model => _model;

    private protected override OutputColumn[] GetOutputColumns(DataViewSchema inputSchema)
    {
        Sorting.SoftSortingTransformer.CheckInput(inputSchema, FeatureColumnName, _model.Features);
        var vector = new VectorDataViewType(NumberDataViewType.Single, _model.Outputs);
        var none = new DataViewSchema.Annotations.Builder().ToAnnotations();
        return [new OutputColumn("Score", vector, none, [FeatureColumnName]), new OutputColumn(PredictionColumnName, vector, none, [FeatureColumnName])];
    }

    private protected override RowComputer CreateComputer(DataViewRow input) => new Computer(this, input);

    private protected override void SaveModel(ModelSaveContext ctx)
    {
        BinaryWriter w = MlNetInternals.BeginSave(ctx, ModelSignature, Version, LoaderSignature);
        w.Write(FeatureColumnName);
        w.Write((int)_head.Kind);
        w.Write(_head.Parameter);
        w.Write(_model.Features);
        w.Write(_model.Outputs);
        foreach (float v in _model.Weights) w.Write(v);
        foreach (float v in _model.Bias) w.Write(v);
    }

    internal static StructuredPredictionTransformer Create(IHostEnvironment env, object ctx)
    {
        BinaryReader r = MlNetInternals.BeginLoad(ctx, ModelSignature, Version, LoaderSignature);
        try
        {
            string feature = r.ReadString();
            var kind = (StructuredHeadKind)r.ReadInt32();
            int parameter = r.ReadInt32(), p = r.ReadInt32(), d = r.ReadInt32();
            bool valid = Enum.IsDefined(kind) && p >= 1 && d >= 1 && (long)p * d <= 100_000_000
                && (kind == StructuredHeadKind.TopK ? parameter >= 1 && parameter <= d : (long)parameter * parameter == d);
            if (!valid)
            {
                throw new FormatException($"The saved structured model claims head {kind}({parameter}), {d} outputs and {p} features.");
            }
            var weights = new float[d * p];
            var bias = new float[d];
            for (int i = 0; i < weights.Length; i++) weights[i] = r.ReadSingle();
            for (int i = 0; i < d; i++) bias[i] = r.ReadSingle();
            return new StructuredPredictionTransformer(new AffineModel(weights, bias), new StructuredHead(kind, parameter, d), feature);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException)
        {
            throw new FormatException($"The saved structured model is truncated or corrupt: {e.Message}", e);
        }
    }

    private sealed class Computer(StructuredPredictionTransformer parent, DataViewRow input) : RowComputer
    {
        private readonly ValueGetter<VBuffer<float>> _features = input.GetGetter<VBuffer<float>>(input.Schema[parent.FeatureColumnName]);
        private readonly float[] _x = new float[parent._model.Features];
        private readonly float[] _scores = new float[parent._model.Outputs];
        private readonly float[] _prediction = new float[parent._model.Outputs];
        private VBuffer<float> _buffer;
        private long _computedAt = -1;

        private void Compute()
        {
            if (_computedAt == input.Position && _computedAt >= 0)
            {
                return;
            }
            _features(ref _buffer);
            VectorColumns.ReadFinite(_buffer, _x, parent.FeatureColumnName, input.Position, "structured prediction");
            parent._model.Score(_x, _scores);
            parent._oracle.Solve(_scores, _prediction, maxDegreeOfParallelism: 1);
            _computedAt = input.Position;
        }

        public override Delegate GetGetter(int output)
        {
            float[] source = output == 0 ? _scores : _prediction;
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                Compute();
                VectorColumns.Write(source, ref value);
            };
            return getter;
        }
    }
}
