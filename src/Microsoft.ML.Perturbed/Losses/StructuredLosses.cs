using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// The registry of built-in losses (docs/architecture.md, "Losses"): one <see cref="LossDescriptor"/> per
/// <see cref="StructuredLossKind"/>. Adding a loss is its file in <c>Losses/</c>, its value in <see cref="StructuredLossKind"/>
/// and one line here; <see cref="StructuredLoss.Create"/>, the trainer options, the ML.NET trainer and the loss contract
/// tests take it from there.
/// </summary>
internal static class StructuredLosses
{
    private static readonly LossDescriptor[] s_all =
    [
        new(StructuredLossKind.FenchelYoung, "Fenchel-Young", LabelKind.Solution, LossGradientKind.Exact,
            (head, o, _) => new FenchelYoungLoss(new PerturbedOptimizer(head, o.PerturbationSettings()))),
        new(StructuredLossKind.PerturbedSquared, "perturbed + squared", LabelKind.Solution, LossGradientKind.Estimator,
            (head, o, _) => StructuredLoss.Squared(new PerturbedOptimizer(head, o.PerturbationSettings()))),
        new(StructuredLossKind.SquaredScores, "squared", LabelKind.Solution, LossGradientKind.Exact,
            (head, o, _) => StructuredLoss.Squared(new ScoresLayer(head.Dimension) { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism })),
        new(StructuredLossKind.Blackbox, "blackbox", LabelKind.Solution, LossGradientKind.Surrogate,
            (head, o, task) => LayerLoss.OfTask(DifferentiableLayers.Blackbox(head, o.BlackboxLambda, o.Projection, o.Margin, o.Seed, o.MaxDegreeOfParallelism), task),
            defaultTaskLoss: TaskLoss.Linear, initialWeightScale: 0.01),
        new(StructuredLossKind.IdentityWithProjection, "identity with projection", LabelKind.Solution, LossGradientKind.Surrogate,
            (head, o, task) => LayerLoss.OfTask(DifferentiableLayers.IdentityWithProjection(head, o.Projection, o.Margin, o.Seed, o.MaxDegreeOfParallelism), task),
            initialWeightScale: 0.01),
        new(StructuredLossKind.SpoPlus, "SPO+", LabelKind.Costs, LossGradientKind.Exact,
            (head, o, _) => new SpoPlusLoss(head) { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }),
        new(StructuredLossKind.DirectLoss, "direct loss", LabelKind.Solution, LossGradientKind.Surrogate,
            (head, o, _) => new DirectLossMinimization(head, LinearLosses.For(head), new DirectLossOptions
            {
                Epsilon = -Math.Abs(o.Epsilon), Samples = o.Samples, Seed = o.Seed,
            }) { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }),
        new(StructuredLossKind.ImplicitMle, "I-MLE", LabelKind.Solution, LossGradientKind.Surrogate,
            (head, o, task) => LayerLoss.OfTask(new ImplicitMleLayer(head, o.Epsilon, o.BlackboxLambda, o.Samples, Noise.SumOfGammaNoise.Default, o.Seed) { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }, task)),
        new(StructuredLossKind.SoftTopK, "soft top-k", LabelKind.Solution, LossGradientKind.Exact,
            (head, o, _) => SoftTopKLoss.Create(head, o), initialWeightScale: 0.01),
        new(StructuredLossKind.NoiseContrastive, "NCE", LabelKind.Solution, LossGradientKind.Exact,
            (head, o, _) => new NoiseContrastiveLoss(head, o.SolveRatio, o.Seed) { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }),
        new(StructuredLossKind.ContrastiveMap, "CMAP", LabelKind.Solution, LossGradientKind.Exact,
            (head, o, _) => new ContrastiveMapLoss(head, o.SolveRatio, o.Seed) { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }),
        new(StructuredLossKind.PointwiseRanking, "pointwise LTR", LabelKind.Costs, LossGradientKind.Exact,
            (head, o, _) => new PointwiseRankingLoss(head, o.SolveRatio, o.Seed) { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }),
        new(StructuredLossKind.PairwiseRanking, "pairwise LTR", LabelKind.Costs, LossGradientKind.Exact,
            (head, o, _) => new PairwiseRankingLoss(head, o.SolveRatio, o.Seed) { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism },
            initialWeightScale: 0.01),
        new(StructuredLossKind.ListwiseRanking, "listwise LTR", LabelKind.Costs, LossGradientKind.Exact,
            (head, o, _) => new ListwiseRankingLoss(head, o.SolveRatio, o.Seed) { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }),
    ];

    /// <summary>Every built-in loss, in the order of <see cref="StructuredLossKind"/>.</summary>
    public static IReadOnlyList<LossDescriptor> All => s_all;

    /// <summary>The descriptor of <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a registered loss (the message lists them).</exception>
    public static LossDescriptor Get(StructuredLossKind kind)
    {
        foreach (LossDescriptor descriptor in s_all)
        {
            if (descriptor.Kind == kind) return descriptor;
        }
        throw new ArgumentOutOfRangeException(nameof(kind), kind,
            $"Unknown {nameof(StructuredLossKind)} value {kind} for '{nameof(kind)}'; the built-in losses are {string.Join(", ", s_all.Select(d => d.Kind))}.");
    }
}
