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
/// <c>PredictedRanking</c> (Vector&lt;Single&gt;, k). Saves into ML.NET zips (see <see cref="PerturbedComponents.RegisterPerturbed"/>).
/// </summary>
public sealed class LabelRankingTransformer : AffineScoringTransformer
{
    internal const string LoaderSignature = "PerturbedLabelRanking";
    private const string ModelSignature = "PRTBLRNK";
    private const uint Version = 0x00010002;   // 0x00010002: the payload carries its SHA-256

    /// <summary>Default name of the scores column.</summary>
    public const string ScoreColumnName = "Score";

    /// <summary>Default name of the predicted ranking column.</summary>
    public const string PredictedRankingColumnName = "PredictedRanking";

    private readonly RankingOracle _head;

    internal LabelRankingTransformer(IScoreModel model, string featureColumnName) : base(model, featureColumnName)
    {
        _head = new RankingOracle(model.Outputs);
    }

    /// <summary>Number of labels k.</summary>
    public int LabelCount => Model.Outputs;

    private protected override int[] OutputLengths => [Model.Outputs, Model.Outputs];

    private protected override OutputColumn[] Outputs(DataViewSchema inputSchema)
    {
        var vector = new VectorDataViewType(NumberDataViewType.Single, Model.Outputs);
        var none = new DataViewSchema.Annotations.Builder().ToAnnotations();
        return [new(ScoreColumnName, vector, none, [FeatureColumnName]), new(PredictedRankingColumnName, vector, none, [FeatureColumnName])];
    }

    /// <summary>Scores, and the ranking 1 = most preferred: the oracle's ascending ranks reversed.</summary>
    private protected override void Decode(ReadOnlySpan<float> theta, float[][] outputs)
    {
        theta.CopyTo(outputs[0]);
        _head.Solve(theta, outputs[1], maxDegreeOfParallelism: 1);
        for (int i = 0; i < outputs[1].Length; i++) outputs[1][i] = Model.Outputs + 1 - outputs[1][i];
    }

    private protected override void SaveModel(ModelSaveContext ctx)
    {
        using BinaryWriter w = MlNetInternals.BeginSave(ctx, ModelSignature, Version, LoaderSignature);
        WriteAffine(w);
    }

    internal static LabelRankingTransformer Create(IHostEnvironment env, object ctx)
    {
        BinaryReader r = MlNetInternals.BeginLoad(ctx, ModelSignature, Version, LoaderSignature);
        try
        {
            (IScoreModel model, string feature) = ReadAffine(r);
            return new LabelRankingTransformer(model, feature);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException)
        {
            throw new FormatException($"The saved label-ranking model is truncated or corrupt: {e.Message}", e);
        }
    }
}
