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
public sealed class PerturbedMulticlassTransformer : AffineScoringTransformer
{
    internal const string LoaderSignature = "PerturbedMulticlass";
    private const string ModelSignature = "PRTBMCLS";
    private const uint Version = 0x00010002;   // 0x00010002: the payload carries its SHA-256

    /// <summary>Noise samples of the Monte-Carlo scores under normal noise (fixed seed, so scoring is deterministic).</summary>
    public const int ScoringSamples = 1000;

    private readonly string[] _classNames;
    private readonly PerturbedOptimizer? _monteCarlo;

    internal PerturbedMulticlassTransformer(IScoreModel model, double epsilon, NoiseDistribution noise, string featureColumnName, string[] classNames)
        : base(model, featureColumnName)
    {
        Epsilon = epsilon;
        Noise = noise;
        _classNames = classNames;
        _monteCarlo = noise is GumbelNoise ? null : new PerturbedOptimizer(new ArgmaxOracle(model.Outputs),
            new PerturbedOptimizerOptions { Epsilon = epsilon, Samples = ScoringSamples, Noise = noise, MaxDegreeOfParallelism = 1 });
    }

    /// <summary>ε of the perturbation.</summary>
    public double Epsilon { get; }

    /// <summary>The noise the model was trained with; it defines the scores.</summary>
    public NoiseDistribution Noise { get; }

    /// <summary>Class names (the label's key values as text), in key order.</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    private protected override int[] OutputLengths => [Model.Outputs, 1];

    private protected override OutputColumn[] Outputs(DataViewSchema inputSchema)
    {
        int k = Model.Outputs;
        var names = new VBuffer<ReadOnlyMemory<char>>(k, _classNames.Select(n => n.AsMemory()).ToArray());
        var textVector = new VectorDataViewType(TextDataViewType.Instance, k);
        var score = new DataViewSchema.Annotations.Builder();
        score.Add("SlotNames", textVector, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
        var key = new DataViewSchema.Annotations.Builder();
        key.Add("KeyValues", textVector, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
        return
        [
            new("Score", new VectorDataViewType(NumberDataViewType.Single, k), score.ToAnnotations(), [FeatureColumnName]),
            new("PredictedLabel", new KeyDataViewType(typeof(uint), k), key.ToAnnotations(), [FeatureColumnName]),
        ];
    }

    private protected override void Decode(ReadOnlySpan<float> theta, float[][] outputs)
    {
        float[] probabilities = outputs[0];
        if (_monteCarlo is not null)
        {
            _monteCarlo.Forward(theta, probabilities);   // normal noise: Monte-Carlo ŷ_ε, the same draw for every row
        }
        else
        {
            // Gumbel noise: ŷ_ε = softmax(θ/ε) exactly, computed stably.
            double max = double.NegativeInfinity, sum = 0;
            foreach (float t in theta) max = Math.Max(max, t / Epsilon);
            for (int i = 0; i < theta.Length; i++) sum += probabilities[i] = (float)Math.Exp(theta[i] / Epsilon - max);
            for (int i = 0; i < theta.Length; i++) probabilities[i] = (float)(probabilities[i] / sum);
        }
        outputs[1][0] = ArgmaxOracle.IndexOfMax(theta) + 1;   // keys are 1-based
    }

    private protected override Delegate OutputGetter(int output, Func<float[]> compute)
    {
        if (output == 0)
        {
            return base.OutputGetter(output, compute);
        }
        ValueGetter<uint> predicted = (ref uint value) => value = (uint)compute()[0];
        return predicted;
    }

    private protected override void SaveModel(ModelSaveContext ctx)
    {
        using BinaryWriter w = MlNetInternals.BeginSave(ctx, ModelSignature, Version, LoaderSignature);
        w.Write(Epsilon);
        w.Write(Noise.Name);
        w.Write(_classNames.Length);
        foreach (string name in _classNames) w.Write(name);
        WriteAffine(w);
    }

    internal static PerturbedMulticlassTransformer Create(IHostEnvironment env, object ctx)
    {
        BinaryReader r = MlNetInternals.BeginLoad(ctx, ModelSignature, Version, LoaderSignature);
        try
        {
            double epsilon = r.ReadDouble();
            NoiseDistribution noise = r.ReadString() switch
            {
                "Gumbel" => NoiseDistribution.Gumbel,
                "Normal" => NoiseDistribution.Normal,
                string other => throw new FormatException($"The saved multiclass model uses unknown noise '{other}'."),
            };
            var names = new List<string>();
            int k = r.ReadInt32();
            if (k < 2 || k > 1_000_000 || !(epsilon > 0))
            {
                throw new FormatException($"The saved multiclass model claims {k} classes and ε = {epsilon}.");
            }
            for (int i = 0; i < k; i++) names.Add(r.ReadString());
            (IScoreModel model, string feature) = ReadAffine(r);
            if (model.Outputs != k)
            {
                throw new FormatException($"The saved multiclass model has {k} class names but {model.Outputs} outputs.");
            }
            return new PerturbedMulticlassTransformer(model, epsilon, noise, feature, names.ToArray());
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException)
        {
            throw new FormatException($"The saved multiclass model is truncated or corrupt: {e.Message}", e);
        }
    }
}
