using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Ranking;

/// <summary>
/// Learns an affine label-ranking model with the perturbed Fenchel-Young loss over the permutahedron (Berthet et al.
/// 2020, §5; or the squared, perturbed-squared or blackbox losses for comparison). Created by
/// <c>mlContext.LabelRanking().Trainers.PerturbedFenchelYoung(...)</c>.
/// </summary>
public sealed class PerturbedLabelRankingTrainer : IEstimator<LabelRankingTransformer>
{
    private readonly IHost _host;
    private readonly PerturbedLabelRankingOptions _options;
    private readonly int _seed;

    internal PerturbedLabelRankingTrainer(IHost host, PerturbedLabelRankingOptions options)
    {
        _host = host;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _seed = options.Seed ?? TrainingRun.NextSeed(host);
    }

    /// <summary>Trains on <paramref name="input"/>.</summary>
    public LabelRankingTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>Trains on <paramref name="trainData"/>, stopping early on the loss over <paramref name="validationData"/>.</summary>
    public LabelRankingTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        (float[] x, float[] y, int p, int k) = Read(trainData, "training");
        float[] vx = [], vy = [];
        if (validationData is not null)
        {
            (vx, vy, int vp, int vk) = Read(validationData, "validation");
            if (vp != p || vk != k)
            {
                throw new ArgumentException($"Validation data has {vp} features and {vk} labels, training data {p} and {k}.", nameof(validationData));
            }
        }
        using var run = new TrainingRun(_host);
        IScoreModel model = _options.Fit(new RankingOracle(k), x, y, p, _seed, vx, vy, run);
        return new LabelRankingTransformer(model, _options.FeatureColumnName);
    }

    /// <summary>Reads features and labels; labels become targets k + 1 − rank (the oracle's ascending ranks).</summary>
    private (float[] X, float[] Y, int P, int K) Read(IDataView data, string role)
    {
        DataViewSchema.Column label = VectorColumns.Require(data.Schema, _options.LabelColumnName);
        int k = ((VectorDataViewType)label.Type).Size;
        var seen = new bool[k + 1];
        (float[] x, float[] y, int p) = TrainingData.Read(data, _options.FeatureColumnName, label, k,
            TrainingData.VectorLabel(label, $"label ranking ({role})", (row, position) => CheckPermutation(row, seen, label.Name, position), r => k + 1 - r),
            $"label ranking ({role})");
        return (x, y, p, k);
    }

    /// <summary>Checks that a label row is a permutation of 1..k; the message names the column, the row and the fault.</summary>
    internal static void CheckPermutation(ReadOnlySpan<float> ranks, bool[] seen, string column, long row)
    {
        int k = ranks.Length;
        Array.Clear(seen);
        for (int i = 0; i < k; i++)
        {
            float r = ranks[i];
            if (r != MathF.Round(r) || r < 1 || r > k)
            {
                throw new InvalidOperationException($"Column '{column}' row {row} is not a ranking of 1..{k}: slot {i} holds {r}, expected an integer rank in [1, {k}].");
            }
            if (seen[(int)r])
            {
                throw new InvalidOperationException($"Column '{column}' row {row} is not a ranking of 1..{k}: rank {r} appears twice.");
            }
            seen[(int)r] = true;
        }
    }

    /// <summary>The output schema: the input plus Score and PredictedRanking (known-size Single vectors).</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaShapes.RequireSingleVector(inputSchema, _options.FeatureColumnName);
        SchemaShapes.RequireSingleVector(inputSchema, _options.LabelColumnName);
        var outputs = new DataViewSchema.Builder();
        outputs.AddColumn(LabelRankingTransformer.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, 1));
        outputs.AddColumn(LabelRankingTransformer.PredictedRankingColumnName, new VectorDataViewType(NumberDataViewType.Single, 1));
        return SchemaShapes.Append(inputSchema, outputs);
    }
}
