// The catalog entry points live in ML.NET's own namespace, as ML.NET's extension packages put theirs: `using Microsoft.ML;`
// is all an application needs to reach mlContext.LabelRanking() and mlContext.StructuredPrediction().
namespace Microsoft.ML;

/// <summary>Hyper-parameter sweeps of the perturbed trainers without AutoML.</summary>
public static class PerturbedSweepExtensions
{
    /// <summary>
    /// Sweeps the options of a pipeline (see <see cref="Microsoft.ML.Perturbed.Estimators.Sweeping.PerturbedSweep.Run"/>): the search space is the
    /// options class's own <c>[Range]</c>/<c>[Choice]</c> attributes, each trial is cross-validated, the best options are refit.
    /// </summary>
    /// <example><code>
    /// var result = mlContext.Sweep(new PerturbedLabelRankingOptions(),
    ///     (ml, o) => ml.LabelRanking().Trainers.PerturbedFenchelYoung(o), data,
    ///     (ml, scored) => ml.LabelRanking().Evaluate(scored).Spearman,
    ///     settings: new SweepSettings { Parameters = ["Epsilon"], Trials = 12 });
    /// </code></example>
    public static Microsoft.ML.Perturbed.Estimators.Sweeping.SweepResult<TOptions> Sweep<TOptions>(this MLContext mlContext, TOptions baseOptions,
        Func<MLContext, TOptions, IEstimator<ITransformer>> pipeline, IDataView data, Func<MLContext, IDataView, double> metric, bool maximize = true,
        Microsoft.ML.Perturbed.Estimators.Sweeping.SweepSettings? settings = null) where TOptions : class, new()
        => Microsoft.ML.Perturbed.Estimators.Sweeping.PerturbedSweep.Run(mlContext, baseOptions, pipeline, data, metric, maximize, settings);
}
