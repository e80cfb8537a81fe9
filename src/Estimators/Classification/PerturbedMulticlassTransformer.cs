using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Classification;

/// <summary>
/// A multiclass model trained with the perturbed Fenchel-Young loss over the simplex. Appends the columns ML.NET's
/// multiclass evaluator reads: <c>Score</c> = ŷ_ε(θ), the class probabilities of the perturbed argmax (slot names = class
/// names) — exactly softmax(θ/ε) for Gumbel noise (the default), a deterministic Monte-Carlo estimate with
/// <see cref="ScoringSamples"/> samples for normal noise — and <c>PredictedLabel</c> (argmax θ, a key with the class
/// names as key values). <c>mlContext.MulticlassClassification.Evaluate</c> and <c>CrossValidate</c> work on its output.
/// </summary>
public sealed class PerturbedMulticlassTransformer : RowMappingTransformer
{
    internal const string LoaderSignature = "PerturbedMulticlass";
    private const string ModelSignature = "PRTBMCLS";
    private const uint Version = 0x00010001;

    /// <summary>Noise samples of the Monte-Carlo scores under normal noise (fixed seed, so scoring is deterministic).</summary>
    public const int ScoringSamples = 1000;

    private readonly AffineModel _model;
    private readonly string[] _classNames;
    private readonly PerturbedOptimizer? _monteCarlo;

    internal PerturbedMulticlassTransformer(AffineModel model, double epsilon, NoiseDistribution noise, string featureColumnName, string[] classNames)
    {
        _model = model;
        Epsilon = epsilon;
        Noise = noise;
        FeatureColumnName = featureColumnName;
        _classNames = classNames;
        _monteCarlo = noise is GumbelNoise ? null : new PerturbedOptimizer(new ArgmaxOracle(model.Outputs),
            new PerturbedOptimizerOptions { Epsilon = epsilon, Samples = ScoringSamples, Noise = noise, MaxDegreeOfParallelism = 1 });
    }

    /// <summary>The noise the model was trained with; it defines the scores.</summary>
    public NoiseDistribution Noise { get; }

    /// <summary>The features column.</summary>
    public string FeatureColumnName { get; }

    /// <summary>ε of the perturbation: scores are softmax(θ/ε).</summary>
    public double Epsilon { get; }

    /// <summary>The affine score model θ = W x + b (W: classes × features).</summary>
    public AffineModel Model => _model;

    /// <summary>Class names (the label's key values as text), in key order.</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    private protected override OutputColumn[] GetOutputColumns(DataViewSchema inputSchema)
    {
        Sorting.SoftSortingTransformer.CheckInput(inputSchema, FeatureColumnName, _model.Features);
        int k = _model.Outputs;
        var names = new VBuffer<ReadOnlyMemory<char>>(k, _classNames.Select(n => n.AsMemory()).ToArray());
        var textVector = new VectorDataViewType(TextDataViewType.Instance, k);
        var score = new DataViewSchema.Annotations.Builder();
        score.Add("SlotNames", textVector, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
        var key = new DataViewSchema.Annotations.Builder();
        key.Add("KeyValues", textVector, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
        return
        [
            new OutputColumn("Score", new VectorDataViewType(NumberDataViewType.Single, k), score.ToAnnotations(), [FeatureColumnName]),
            new OutputColumn("PredictedLabel", new KeyDataViewType(typeof(uint), k), key.ToAnnotations(), [FeatureColumnName]),
        ];
    }

    private protected override RowComputer CreateComputer(DataViewRow input) => new Computer(this, input);

    private protected override void SaveModel(ModelSaveContext ctx)
    {
        BinaryWriter w = MlNetInternals.BeginSave(ctx, ModelSignature, Version, LoaderSignature);
        w.Write(FeatureColumnName);
        w.Write(Epsilon);
        w.Write(Noise.Name);
        w.Write(_model.Features);
        w.Write(_model.Outputs);
        foreach (string name in _classNames) w.Write(name);
        foreach (float v in _model.Weights) w.Write(v);
        foreach (float v in _model.Bias) w.Write(v);
    }

    internal static PerturbedMulticlassTransformer Create(IHostEnvironment env, object ctx)
    {
        BinaryReader r = MlNetInternals.BeginLoad(ctx, ModelSignature, Version, LoaderSignature);
        try
        {
            string feature = r.ReadString();
            double epsilon = r.ReadDouble();
            string noiseName = r.ReadString();
            NoiseDistribution noise = noiseName switch
            {
                "Gumbel" => NoiseDistribution.Gumbel,
                "Normal" => NoiseDistribution.Normal,
                _ => throw new FormatException($"The saved multiclass model uses unknown noise '{noiseName}'."),
            };
            int p = r.ReadInt32(), k = r.ReadInt32();
            if (p < 1 || k < 2 || (long)p * k > 100_000_000 || !(epsilon > 0))
            {
                throw new FormatException($"The saved multiclass model claims {k} classes × {p} features and ε = {epsilon}.");
            }
            var names = new string[k];
            for (int i = 0; i < k; i++) names[i] = r.ReadString();
            var weights = new float[k * p];
            var bias = new float[k];
            for (int i = 0; i < weights.Length; i++) weights[i] = r.ReadSingle();
            for (int i = 0; i < k; i++) bias[i] = r.ReadSingle();
            return new PerturbedMulticlassTransformer(new AffineModel(weights, bias), epsilon, noise, feature, names);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException)
        {
            throw new FormatException($"The saved multiclass model is truncated or corrupt: {e.Message}", e);
        }
    }

    private sealed class Computer(PerturbedMulticlassTransformer parent, DataViewRow input) : RowComputer
    {
        private readonly ValueGetter<VBuffer<float>> _features = input.GetGetter<VBuffer<float>>(input.Schema[parent.FeatureColumnName]);
        private readonly float[] _x = new float[parent._model.Features];
        private readonly float[] _theta = new float[parent._model.Outputs];
        private readonly float[] _probabilities = new float[parent._model.Outputs];
        private VBuffer<float> _buffer;
        private uint _predicted;
        private long _computedAt = -1;

        private void Compute()
        {
            if (_computedAt == input.Position && _computedAt >= 0)
            {
                return;
            }
            _features(ref _buffer);
            VectorColumns.ReadFinite(_buffer, _x, parent.FeatureColumnName, input.Position, "multiclass scoring");
            parent._model.Score(_x, _theta);
            if (parent._monteCarlo is { } monteCarlo)
            {
                monteCarlo.Forward(_theta, _probabilities);   // normal noise: Monte-Carlo ŷ_ε, same draw for every row
            }
            else
            {
                // Gumbel noise: ŷ_ε = softmax(θ/ε) exactly, computed stably.
                double max = double.NegativeInfinity, sum = 0;
                foreach (float t in _theta) max = Math.Max(max, t / parent.Epsilon);
                for (int i = 0; i < _theta.Length; i++) sum += _probabilities[i] = (float)Math.Exp(_theta[i] / parent.Epsilon - max);
                for (int i = 0; i < _theta.Length; i++) _probabilities[i] = (float)(_probabilities[i] / sum);
            }
            _predicted = (uint)ArgmaxOracle.IndexOfMax(_theta) + 1;   // keys are 1-based
            _computedAt = input.Position;
        }

        public override Delegate GetGetter(int output)
        {
            if (output == 0)
            {
                ValueGetter<VBuffer<float>> score = (ref VBuffer<float> value) =>
                {
                    Compute();
                    VectorColumns.Write(_probabilities, ref value);
                };
                return score;
            }
            ValueGetter<uint> predicted = (ref uint value) =>
            {
                Compute();
                value = _predicted;
            };
            return predicted;
        }
    }
}
