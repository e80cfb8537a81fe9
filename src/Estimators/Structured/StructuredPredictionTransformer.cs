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
public sealed class StructuredPredictionTransformer : AffineScoringTransformer
{
    internal const string LoaderSignature = "PerturbedStructured";
    private const string ModelSignature = "PRTBSTRC";
    private const uint Version = 0x00010002;   // 0x00010002: the payload carries its SHA-256

    /// <summary>Name of the predicted structure column.</summary>
    public const string PredictionColumnName = "Prediction";

    private readonly StructuredHead _head;
    private readonly Oracle _oracle;

    internal StructuredPredictionTransformer(IScoreModel model, StructuredHead head, string featureColumnName) : base(model, featureColumnName)
    {
        _head = head;
        _oracle = head.CreateOracle();
    }

    /// <summary>Top-k or matching.</summary>
    public StructuredHeadKind Head => _head.Kind;

    /// <summary>k (top-k) or n (matching).</summary>
    public int HeadParameter => _head.Parameter;

    private protected override int[] OutputLengths => [Model.Outputs, Model.Outputs];

    private protected override OutputColumn[] Outputs(DataViewSchema inputSchema)
    {
        var vector = new VectorDataViewType(NumberDataViewType.Single, Model.Outputs);
        var none = new DataViewSchema.Annotations.Builder().ToAnnotations();
        return [new("Score", vector, none, [FeatureColumnName]), new(PredictionColumnName, vector, none, [FeatureColumnName])];
    }

    private protected override void Decode(ReadOnlySpan<float> theta, float[][] outputs)
    {
        theta.CopyTo(outputs[0]);
        _oracle.Solve(theta, outputs[1], maxDegreeOfParallelism: 1);
    }

    private protected override void SaveModel(ModelSaveContext ctx)
    {
        using BinaryWriter w = MlNetInternals.BeginSave(ctx, ModelSignature, Version, LoaderSignature);
        w.Write((int)_head.Kind);
        w.Write(_head.Parameter);
        WriteAffine(w);
    }

    internal static StructuredPredictionTransformer Create(IHostEnvironment env, object ctx)
    {
        BinaryReader r = MlNetInternals.BeginLoad(ctx, ModelSignature, Version, LoaderSignature);
        try
        {
            var kind = (StructuredHeadKind)r.ReadInt32();
            int parameter = r.ReadInt32();
            (IScoreModel model, string feature) = ReadAffine(r);
            int d = model.Outputs;
            bool valid = Enum.IsDefined(kind) && (kind == StructuredHeadKind.TopK ? parameter >= 1 && parameter <= d : (long)parameter * parameter == d);
            if (!valid)
            {
                throw new FormatException($"The saved structured model claims head {kind}({parameter}) with {d} outputs.");
            }
            return new StructuredPredictionTransformer(model, new StructuredHead(kind, parameter, d), feature);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException)
        {
            throw new FormatException($"The saved structured model is truncated or corrupt: {e.Message}", e);
        }
    }
}
