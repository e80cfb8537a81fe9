using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// The one transformer of the perturbed trainers: scores θ = g(x) from the features and appends the columns its head
/// decodes from θ (<see cref="PerturbedHead"/>). Top-k, matching, shortest-path, knapsack and user-oracle models are this
/// class; the label-ranking and multiclass transformers are it with typed properties. Saves into ML.NET zips with the
/// head's name and parameters, so any built-in or registered head loads back (see <see cref="PerturbedCatalog.RegisterPerturbed"/>,
/// <see cref="PerturbedHeads.RegisterOracle"/>); models that earlier versions saved as <c>StructuredPredictionTransformer</c>
/// (top-k, matching) load as this class.
/// </summary>
/// <remarks>ML.NET's internal marker interface, by which PermutationFeatureImportance finds a predictor, is added in
/// ModelPersistence/InternalInterfaces.cs with the other uses of ML.NET internals.</remarks>
public partial class PerturbedPredictionTransformer : AffineScoringTransformer, ISingleFeaturePredictionTransformer<PerturbedModelParameters>
{
    internal const string LoaderSignature = "PerturbedPrediction";
    // Format versions (docs/architecture.md, "Model format versions"); a format change keeps reading the previous one.
    internal static readonly ModelFormat Format = new("perturbed predictor", "PRTBPRED", LoaderSignature,
        new ModelVersion(Written: 0x00010002, Readable: 0x00010002, ReadBack: 0x00010001),
        [
            (0x00010001, "Microsoft.ML.Perturbed 0.1.0 up to commit 26a5a53 and later versions"),
            (0x00010002, "Microsoft.ML.Perturbed 0.1.0 after commit 26a5a53 and later versions (the payload starts with the library version that wrote it)"),
        ])
    { LibraryNamedSince = 0x00010002 };

    private readonly IReadOnlyList<HeadOutput> _outputs;
    private readonly HeadDecoder _decode;

    internal PerturbedPredictionTransformer(PerturbedModelParameters parameters, string featureColumnName)
        : base((parameters ?? throw new ArgumentNullException(nameof(parameters))).ScoreModel, featureColumnName)
    {
        Parameters = parameters;
        _outputs = parameters.Head.Outputs(parameters);
        _decode = parameters.Head.CreateDecoder(parameters);
    }

    /// <summary>The trained model: score model, head, ε and noise.</summary>
    public PerturbedModelParameters Parameters { get; }

    /// <summary>The head, bound to the training label.</summary>
    public PerturbedHead HeadModel => Parameters.Head;

    /// <summary>The type of the features column: a Single vector of the model's feature count.</summary>
    public DataViewType FeatureColumnType => new VectorDataViewType(NumberDataViewType.Single, Parameters.FeatureCount);

    /// <inheritdoc/>
    PerturbedModelParameters IPredictionTransformer<PerturbedModelParameters>.Model => Parameters;

    private protected sealed override int[] OutputLengths => _outputs.Select(o => o.Length).ToArray();

    // Every output carries ML.NET's scorer annotations (the head's score-column kind; the first output is the scores,
    // the others are predictions), as the columns of ML.NET's own trainers do.
    private protected sealed override OutputColumn[] Outputs(DataViewSchema inputSchema) =>
        _outputs.Select((o, i) => new OutputColumn(o.Name, o.Type,
            MlNetInternals.ScorerAnnotations(inputSchema, o.Annotations, Parameters.Head.ScoreColumnKind, i == 0 ? MlNetInternals.ScoreValueKind : MlNetInternals.PredictedValueKind),
            [FeatureColumnName])).ToArray();

    private protected sealed override void Decode(ReadOnlySpan<float> theta, float[][] outputs) => _decode(theta, outputs);

    private protected sealed override Delegate OutputGetter(int output, Func<float[]> compute) => Parameters.Head.OutputGetter(output, compute);

    private protected sealed override void SaveOnnx(OnnxGraph graph) => Parameters.Head.WriteOnnx(graph, ScoresOnnx(graph), Parameters);

    // *** Binary format *** (0x00010002; 0x00010001 is the same without the library version)
    // string  library version      (MlNetInternals.BeginSave)
    // string  head name            (registry key, PerturbedHeads)
    // ...     head parameters       (the head's own Write)
    // double  ε
    // string  noise name            ("Gumbel" or "Normal")
    // ...     score model           (AffineScoringTransformer.WriteAffine: features column, MLP flag, layers)
    // all inside the checksummed payload of MlNetInternals.BeginSave.
    private protected sealed override void SaveModel(ModelSaveContext ctx)
    {
        if (Parameters.Noise is not (GumbelNoise or NormalNoise))
        {
            throw new NotSupportedException($"A model trained with {Parameters.Noise.Name} noise cannot be saved: models save their noise by name (Gumbel or Normal).");
        }
        using BinaryWriter w = MlNetInternals.BeginSave(ctx, Format);
        w.Write(Parameters.Head.Name);
        Parameters.Head.Write(w);
        w.Write(Parameters.Epsilon);
        w.Write(Parameters.Noise.Name);
        WriteAffine(w);
    }

    /// <summary>The loader ML.NET calls (through the registration in <see cref="PerturbedCatalog.RegisterPerturbed"/>).</summary>
    internal static PerturbedPredictionTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        BinaryReader r = MlNetInternals.BeginLoad(ctx, Format, out _);
        try
        {
            string headName = r.ReadString();
            PerturbedHead head = PerturbedHeads.Read(headName, r);
            double epsilon = r.ReadDouble();
            NoiseDistribution noise = r.ReadString() switch
            {
                "Gumbel" => NoiseDistribution.Gumbel,
                "Normal" => NoiseDistribution.Normal,
                string other => throw new FormatException($"The saved model uses unknown noise '{other}'."),
            };
            if (!(epsilon > 0) || !double.IsFinite(epsilon)) throw new FormatException($"The saved model claims ε = {epsilon}.");
            (IScoreModel model, string feature) = ReadAffine(r);
            if (model.Outputs != head.Dimension)
            {
                throw new FormatException($"The saved model's head {head} reads {head.Dimension} scores but its score model gives {model.Outputs}.");
            }
            var parameters = new PerturbedModelParameters(model, head, epsilon, noise);
            return head.CreateTransformer(parameters, feature);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException)
        {
            throw new FormatException($"The saved perturbed model is truncated or corrupt: {e.Message}", e);
        }
    }
}
