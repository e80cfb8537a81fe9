using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Estimators.Ranking;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// Label ranking over the permutahedron: labels are rank vectors with 1 = most preferred, each row a permutation of
/// 1..k; targets are the oracle's ascending ranks k + 1 − r (the one place this conversion lives). Outputs <c>Score</c>
/// (θ) and <c>PredictedRanking</c> (1 = best), both with the label's slot names when it has them.
/// </summary>
internal sealed class RankingHead : PerturbedHead
{
    private readonly string[]? _slotNames;

    /// <summary>An unbound ranking head (k is read from the label column).</summary>
    public RankingHead() : base(0)
    {
    }

    private RankingHead(int k, string[]? slotNames) : base(k) => _slotNames = slotNames;

    /// <inheritdoc/>
    public override string Name => "Ranking";

    /// <summary>The label's slot names (null when it has none).</summary>
    public IReadOnlyList<string>? SlotNames => _slotNames;

    /// <inheritdoc/>
    public override PerturbedHead Bind(DataViewSchema.Column label)
    {
        int k = VectorSize(label, "known-size vector of Single (a ranking of the labels, 1 = most preferred)");
        return new RankingHead(k, ReadSlotNames(label, k));
    }

    /// <inheritdoc/>
    public override Oracle CreateOracle() => new RankingOracle(Dimension);

    /// <summary>Rank r (1 = best) of label i as the oracle's target k + 1 − r, and back.</summary>
    internal static float ToTarget(float rank, int k) => k + 1 - rank;

    /// <inheritdoc/>
    private protected override void EncodeLabel(ReadOnlySpan<float> label, Span<float> target, LabelKind targets, string column, long row)
    {
        // The targets are a point of the permutahedron and serve as the "true scores" of SPO+ too.
        CheckRanking(label, column, row);
        for (int i = 0; i < label.Length; i++) target[i] = ToTarget(label[i], label.Length);
    }

    /// <summary>Checks that a row is a ranking of 1..k; the message names the column, the row and the fault.</summary>
    internal static void CheckRanking(ReadOnlySpan<float> ranks, string column, long row)
    {
        int k = ranks.Length;
        Span<bool> seen = k <= 256 ? stackalloc bool[k + 1] : new bool[k + 1];
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

    /// <inheritdoc/>
    internal override string ScoreColumnKind => "LabelRanking";

    /// <inheritdoc/>
    internal override string PredictionOutputName => LabelRankingCatalog.PredictedRankingColumnName;

    /// <inheritdoc/>
    internal override IReadOnlyList<HeadOutput> Outputs(PerturbedModelParameters parameters)
    {
        var vector = new VectorDataViewType(NumberDataViewType.Single, Dimension);
        DataViewSchema.Annotations names = SlotAnnotations(_slotNames);
        return [new(LabelRankingCatalog.ScoreColumnName, vector, names, Dimension), new(LabelRankingCatalog.PredictedRankingColumnName, vector, names, Dimension)];
    }

    /// <inheritdoc/>
    internal override HeadDecoder CreateDecoder(PerturbedModelParameters parameters)
    {
        var oracle = new RankingOracle(Dimension);
        int k = Dimension;
        return (theta, outputs) =>
        {
            theta.CopyTo(outputs[0]);
            oracle.Solve(theta, outputs[1], maxDegreeOfParallelism: 1);
            for (int i = 0; i < k; i++) outputs[1][i] = ToTarget(outputs[1][i], k);   // ascending rank ↔ 1 = best
        };
    }

    /// <summary>
    /// <c>Score</c> = θ; <c>PredictedRanking</c>: TopK of all d scores (decreasing, equal scores in increasing index order —
    /// the oracle's rule that the lower index counts as larger), then rank p + 1 written at the index in position p.
    /// </summary>
    internal override void WriteOnnx(OnnxGraph graph, string theta, PerturbedModelParameters parameters)
    {
        IReadOnlyList<HeadOutput> outputs = Outputs(parameters);
        graph.Output(outputs[0].Name, outputs[0].Type, theta);
        (_, string order) = graph.TopK(theta, Dimension, largest: true);
        float[] ranks = Enumerable.Range(1, Dimension).Select(r => (float)r).ToArray();
        // Every slot is written (the indices are a permutation), so θ only lends its shape and type.
        graph.Output(outputs[1].Name, outputs[1].Type, graph.ScatterRow(theta, order, ranks));
    }

    /// <inheritdoc/>
    internal override PerturbedPredictionTransformer CreateTransformer(PerturbedModelParameters parameters, string featureColumnName)
        => new PerturbedPredictionTransformer(parameters, featureColumnName);

    // *** Binary format ***: int k; int name count (−1: none) and the slot names.
    /// <inheritdoc/>
    internal override void Write(BinaryWriter writer)
    {
        writer.Write(Dimension);
        WriteNames(writer, _slotNames);
    }

    internal static RankingHead Read(BinaryReader reader)
    {
        int k = reader.ReadInt32();
        if (k < 1 || k > 1_000_000) throw new FormatException($"The saved ranking head claims {k} labels.");
        return new RankingHead(k, ReadNames(reader, k));
    }
}
