using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Ranking;

/// <summary>
/// A trained label-ranking model: scores θ = W x + b for the k labels, and the predicted ranking of the labels
/// (1 = most preferred, the label with the largest score). Appends <c>Score</c> (Vector&lt;Single&gt;, k) and
/// <c>PredictedRanking</c> (Vector&lt;Single&gt;, k). Scoring is plain managed code; the model saves into ML.NET zips
/// (see <see cref="PerturbedComponents.RegisterPerturbed"/> for loading in a fresh context).
/// </summary>
public sealed class LabelRankingTransformer : RowMappingTransformer
{
    internal const string LoaderSignature = "PerturbedLabelRanking";
    private const string ModelSignature = "PRTBLRNK";
    private const uint Version = 0x00010001;

    /// <summary>Default name of the scores column.</summary>
    public const string ScoreColumnName = "Score";

    /// <summary>Default name of the predicted ranking column.</summary>
    public const string PredictedRankingColumnName = "PredictedRanking";

    private readonly AffineModel _model;
    private readonly RankingOracle _head;

    internal LabelRankingTransformer(AffineModel model, string featureColumnName)
    {
        _model = model;
        _head = new RankingOracle(model.Outputs);
        FeatureColumnName = featureColumnName;
    }

    /// <summary>The features column the model reads.</summary>
    public string FeatureColumnName { get; }

    /// <summary>The affine score model (W: labels × features, b: labels).</summary>
    public AffineModel Model => _model;

    /// <summary>Number of labels k.</summary>
    public int LabelCount => _model.Outputs;

    private protected override OutputColumn[] GetOutputColumns(DataViewSchema inputSchema)
    {
        Sorting.SoftSortingTransformer.CheckInput(inputSchema, FeatureColumnName, _model.Features);
        var vector = new VectorDataViewType(NumberDataViewType.Single, _model.Outputs);
        var none = new DataViewSchema.Annotations.Builder().ToAnnotations();
        return
        [
            new OutputColumn(ScoreColumnName, vector, none, [FeatureColumnName]),
            new OutputColumn(PredictedRankingColumnName, vector, none, [FeatureColumnName]),
        ];
    }

    private protected override RowComputer CreateComputer(DataViewRow input) => new Computer(this, input);

    /// <summary>Predicted ranking (1 = most preferred) from scores: the ascending ranks of the oracle, reversed.</summary>
    internal void Rank(ReadOnlySpan<float> scores, Span<float> ranking)
    {
        _head.Solve(scores, ranking, maxDegreeOfParallelism: 1);
        for (int i = 0; i < ranking.Length; i++) ranking[i] = _model.Outputs + 1 - ranking[i];
    }

    private protected override void SaveModel(ModelSaveContext ctx)
    {
        BinaryWriter w = MlNetInternals.BeginSave(ctx, ModelSignature, Version, LoaderSignature);
        w.Write(FeatureColumnName);
        w.Write(_model.Features);
        w.Write(_model.Outputs);
        foreach (float v in _model.Weights) w.Write(v);
        foreach (float v in _model.Bias) w.Write(v);
    }

    internal static LabelRankingTransformer Create(IHostEnvironment env, object ctx)
    {
        BinaryReader r = MlNetInternals.BeginLoad(ctx, ModelSignature, Version, LoaderSignature);
        try
        {
            string feature = r.ReadString();
            int p = r.ReadInt32(), k = r.ReadInt32();
            if (p < 1 || k < 1 || (long)p * k > 100_000_000)
            {
                throw new FormatException($"The saved label-ranking model claims {k} labels × {p} features.");
            }
            var weights = new float[k * p];
            var bias = new float[k];
            for (int i = 0; i < weights.Length; i++) weights[i] = r.ReadSingle();
            for (int i = 0; i < k; i++) bias[i] = r.ReadSingle();
            return new LabelRankingTransformer(new AffineModel(weights, bias), feature);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException)
        {
            throw new FormatException($"The saved label-ranking model is truncated or corrupt: {e.Message}", e);
        }
    }

    /// <summary>Both outputs come from one score computation per row, cached for the current row.</summary>
    private sealed class Computer(LabelRankingTransformer parent, DataViewRow input) : RowComputer
    {
        private readonly ValueGetter<VBuffer<float>> _features = input.GetGetter<VBuffer<float>>(input.Schema[parent.FeatureColumnName]);
        private readonly float[] _x = new float[parent._model.Features];
        private readonly float[] _scores = new float[parent._model.Outputs];
        private readonly float[] _ranking = new float[parent._model.Outputs];
        private VBuffer<float> _buffer;
        private long _computedAt = -1;

        private void Compute()
        {
            if (_computedAt == input.Position && _computedAt >= 0)
            {
                return;
            }
            _features(ref _buffer);
            VectorColumns.ReadFinite(_buffer, _x, parent.FeatureColumnName, input.Position, "label ranking");
            parent._model.Score(_x, _scores);
            parent.Rank(_scores, _ranking);
            _computedAt = input.Position;
        }

        public override Delegate GetGetter(int output)
        {
            float[] source = output == 0 ? _scores : _ranking;
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                Compute();
                VectorColumns.Write(source, ref value);
            };
            return getter;
        }
    }
}
