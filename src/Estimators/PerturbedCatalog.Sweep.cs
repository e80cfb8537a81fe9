// Extension methods in ML.NET's own namespace (see PerturbedCatalog.cs).
namespace Microsoft.ML;

// Part of PerturbedCatalog: Hyper-parameter sweeps of the perturbed trainers without AutoML.
public static partial class PerturbedCatalog
{
    /// <summary>
    /// Sweeps the options of a pipeline without AutoML (docs/architecture.md, "Sweeps"): the search space is the options class's
    /// own <c>[Range]</c>/<c>[Choice]</c> attributes — the same ones AutoML's <c>CreateSweepableEstimator</c> reads — each trial
    /// is cross-validated with the same folds, the tuner (cost-frugal local search by default, random or grid) proposes the next
    /// options, and the best options are refit. Deterministic for a seed, whatever the parallelism.
    /// </summary>
    /// <typeparam name="TOptions">The options class (public settable properties; a parameterless constructor).</typeparam>
    /// <param name="mlContext">The context (its log receives progress; its cancellation stops the sweep).</param>
    /// <param name="baseOptions">The options the swept values are set on (copied per trial; never changed).</param>
    /// <param name="pipeline">Builds the pipeline for a trial's options, with that trial's context.</param>
    /// <param name="data">The data to cross-validate on.</param>
    /// <param name="metric">The metric of a scored fold, e.g. <c>(ml, scored) => ml.LabelRanking().Evaluate(scored).Spearman</c>.</param>
    /// <param name="maximize">Whether larger metric values are better (default true; false for regret, log-loss).</param>
    /// <param name="settings">Tuner, budget, folds, seed, parallelism; the defaults of <see cref="Microsoft.ML.Perturbed.Estimators.Sweeping.SweepSettings"/> when null.</param>
    /// <exception cref="InvalidOperationException">A trial's metric is NaN or ±∞ (the message names the trial's option values and the fold): a sweep refuses it rather than rank it.</exception>
    /// <remarks>An exception of the pipeline or the metric stops the sweep and reaches the caller as itself (not wrapped).</remarks>
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
