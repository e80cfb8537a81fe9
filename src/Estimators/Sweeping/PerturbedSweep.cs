using System.Diagnostics;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Sweeping;

/// <summary>
/// Hyper-parameter sweeps without AutoML (docs/architecture.md, "Sweeps"): the search space comes from the options class's
/// own <c>[Range]</c>/<c>[Choice]</c> attributes — the same ones AutoML's <c>CreateSweepableEstimator</c> reads — each trial is
/// cross-validated with the same folds, and the tuner (cost-frugal local search, random or grid) proposes the next options.
/// Deterministic for a seed, whatever the parallelism.
/// </summary>
internal static class PerturbedSweep
{
    /// <summary>Sweeps the options of a pipeline: <c>mlContext.Sweep</c> (<see cref="PerturbedCatalog.Sweep"/>), documented there.</summary>
    public static SweepResult<TOptions> Run<TOptions>(MLContext mlContext, TOptions baseOptions, Func<MLContext, TOptions, IEstimator<ITransformer>> pipeline,
        IDataView data, Func<MLContext, IDataView, double> metric, bool maximize = true, SweepSettings? settings = null) where TOptions : class, new()
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(baseOptions);
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(metric);
        settings ??= new SweepSettings();
        Validate(settings);
        SweepSpace space = SweepSpace.From<TOptions>(settings.Parameters);
        ISweepTuner tuner = settings.Tuner switch
        {
            SweepTunerKind.CostFrugal => new CostFrugalTuner(space.DefaultPoint(), settings.Seed),
            SweepTunerKind.Random => new RandomTuner(space.Dimension, settings.Seed),
            SweepTunerKind.Grid => new GridTuner(space, settings.GridLevels),
            _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Tuner, "Unknown tuner."),
        };
        var host = ((IHostEnvironment)mlContext).Register("PerturbedSweep");
        using IChannel channel = host.Start("Sweep");
        if (settings.NumberOfFolds > 0)
        {
            long rows = data.GetRowCount() ?? CountRows(data);
            if (rows < settings.NumberOfFolds)
            {
                throw new ArgumentOutOfRangeException(nameof(settings.NumberOfFolds), settings.NumberOfFolds,
                    $"'NumberOfFolds' ({settings.NumberOfFolds}) exceeds the {rows} rows of the data: every fold needs at least one test row.");
            }
        }
        IReadOnlyList<DataOperationsCatalog.TrainTestData> folds = settings.NumberOfFolds > 0
            ? mlContext.Data.CrossValidationSplit(data, settings.NumberOfFolds, seed: settings.Seed)
            : [mlContext.Data.TrainTestSplit(data, settings.ValidationFraction, seed: settings.Seed)];
        var trials = new List<SweepTrial>();
        // Trials by the option values they applied: a point proposed again (or another point that rounds to the same
        // values, SweepParameter.ValueAt) gets the earlier result and costs no trial.
        var evaluated = new Dictionary<string, SweepTrial>();
        int idleBatches = 0;
        var watch = Stopwatch.StartNew();
        int parallel = settings.MaxDegreeOfParallelism;
        while (trials.Count < settings.Trials && !tuner.IsExhausted && (settings.TimeBudget is not { } budget || watch.Elapsed < budget))
        {
            settings.CancellationToken.ThrowIfCancellationRequested();
            if (ModelPersistence.MlNetInternals.IsCanceled(host)) throw new OperationCanceledException("The sweep was cancelled (MLContext.CancelExecution).");
            // The tuner's batch size does not depend on the parallelism, so neither do the proposals.
            IReadOnlyList<double[]> batch = tuner.Propose(settings.Trials - trials.Count);
            if (batch.Count == 0) break;
            string[] keys = batch.Select(p => Describe(space.ValuesAt(p))).ToArray();
            var fresh = new List<int>();
            var inBatch = new HashSet<string>();
            for (int i = 0; i < batch.Count; i++)
            {
                if (!evaluated.ContainsKey(keys[i]) && inBatch.Add(keys[i])) fresh.Add(i);
            }
            var results = new SweepTrial[fresh.Count];
            int first = trials.Count;
            try
            {
                Parallel.For(0, fresh.Count, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = settings.CancellationToken },
                    j => results[j] = Evaluate(first + j, batch[fresh[j]], space, baseOptions, pipeline, folds, metric, settings.Seed));
            }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0)
            {
                // A trial's own exception (the user's metric or pipeline, or a refused metric value) reaches the caller as itself.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            }
            for (int j = 0; j < fresh.Count; j++)
            {
                evaluated[keys[fresh[j]]] = results[j];
                trials.Add(results[j]);
                channel.Info(MessageSensitivity.None, $"trial {results[j].Index + 1} of at most {settings.Trials}: {results[j]}{Remaining(watch.Elapsed, trials.Count, settings)}");
                settings.Progress?.Report(results[j]);
            }
            for (int i = 0; i < batch.Count; i++)
            {
                SweepTrial result = evaluated[keys[i]];
                if (!fresh.Contains(i)) channel.Trace(MessageSensitivity.None, $"proposed again: {keys[i]} (trial #{result.Index}), not evaluated again");
                tuner.Report(batch[i], maximize ? result.Mean : -result.Mean);
            }
            // A tuner that keeps proposing evaluated points has nothing new to offer.
            idleBatches = fresh.Count == 0 ? idleBatches + 1 : 0;
            if (idleBatches >= MaxIdleBatches)
            {
                channel.Info(MessageSensitivity.None, $"the {tuner.Name} tuner proposed only evaluated options {MaxIdleBatches} times in a row: the sweep stops after {trials.Count} trials");
                break;
            }
        }
        if (trials.Count == 0) throw new InvalidOperationException("The sweep ran no trial within its budget.");
        SweepTrial best = maximize ? trials.MaxBy(t => t.Mean)! : trials.MinBy(t => t.Mean)!;
        TOptions bestOptions = Copy(baseOptions);
        foreach (SweepParameter p in space.Parameters) p.Property.SetValue(bestOptions, best.Parameters[p.Name]);
        ITransformer? model = settings.RefitBest ? pipeline(new MLContext(settings.Seed), bestOptions).Fit(data) : null;
        channel.Info(MessageSensitivity.None, $"best of {trials.Count} trials ({tuner.Name}): {best}");
        return new SweepResult<TOptions>(trials, best, bestOptions, model, tuner.Name);
    }

    /// <summary>Proposals in a row that bring no new option values before a sweep stops (100).</summary>
    internal const int MaxIdleBatches = 100;

    /// <summary>"Name = value, …" in the invariant culture: how trials print, and the key of the trial cache.</summary>
    internal static string Describe(IReadOnlyDictionary<string, object> values) =>
        string.Join(", ", values.Select(p => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{p.Key} = {p.Value}")));

    /// <summary>"; about N s left" from the mean trial time so far (the budget's end when sooner); empty when nothing is known.</summary>
    private static string Remaining(TimeSpan elapsed, int done, SweepSettings settings)
    {
        if (done == 0 || done >= settings.Trials) return "";
        double left = elapsed.TotalSeconds / done * (settings.Trials - done);
        if (settings.TimeBudget is { } budget) left = Math.Min(left, Math.Max(0, (budget - elapsed).TotalSeconds));
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"; about {left:F0} s left");
    }

    private static SweepTrial Evaluate<TOptions>(int index, double[] point, SweepSpace space, TOptions baseOptions,
        Func<MLContext, TOptions, IEstimator<ITransformer>> pipeline, IReadOnlyList<DataOperationsCatalog.TrainTestData> folds,
        Func<MLContext, IDataView, double> metric, int seed) where TOptions : class, new()
    {
        var watch = Stopwatch.StartNew();
        TOptions options = Copy(baseOptions);
        space.Apply(options, point);
        var values = new double[folds.Count];
        for (int f = 0; f < folds.Count; f++)
        {
            // Each fit has its own context seeded by (sweep seed, fold): the trial's result depends on its options only.
            var context = new MLContext(seed + 7919 * f);
            IEstimator<ITransformer> estimator = pipeline(context, options)
                ?? throw new InvalidOperationException($"The pipeline builder returned null for trial {index + 1} ({Describe(space.ValuesAt(point))}).");
            ITransformer model = estimator.Fit(folds[f].TrainSet);
            values[f] = metric(context, model.Transform(folds[f].TestSet));
            if (!double.IsFinite(values[f]))
            {
                throw new InvalidOperationException($"Trial {index + 1} ({Describe(space.ValuesAt(point))}) gave the metric {values[f]} on fold {f + 1}; " +
                    "a sweep needs finite metric values to rank its trials.");
            }
        }
        double mean = values.Average(), std = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
        return new SweepTrial(index, space.ValuesAt(point), mean, std, watch.Elapsed);
    }

    /// <summary>A copy of the options: every public property with a getter and a setter.</summary>
    private static TOptions Copy<TOptions>(TOptions source) where TOptions : class, new()
    {
        var copy = new TOptions();
        foreach (var p in typeof(TOptions).GetProperties(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public).Where(p => p.CanRead && p.CanWrite))
        {
            p.SetValue(copy, p.GetValue(source));
        }
        return copy;
    }

    private static long CountRows(IDataView data)
    {
        using DataViewRowCursor cursor = data.GetRowCursor([]);
        long rows = 0;
        while (cursor.MoveNext()) rows++;
        return rows;
    }

    private static void Validate(SweepSettings s)
    {
        if (!Enum.IsDefined(s.Tuner)) throw new ArgumentOutOfRangeException(nameof(s.Tuner), s.Tuner, "Unknown tuner.");
        if (s.Trials < 1) throw new ArgumentOutOfRangeException(nameof(s.Trials), s.Trials, "'Trials' must be at least 1.");
        if (s.NumberOfFolds is < 0 or 1) throw new ArgumentOutOfRangeException(nameof(s.NumberOfFolds), s.NumberOfFolds, "'NumberOfFolds' must be 0 (one split) or at least 2.");
        if (!(s.ValidationFraction > 0 && s.ValidationFraction < 1)) throw new ArgumentOutOfRangeException(nameof(s.ValidationFraction), s.ValidationFraction, "'ValidationFraction' must be in (0, 1).");
        if (s.MaxDegreeOfParallelism < 1) throw new ArgumentOutOfRangeException(nameof(s.MaxDegreeOfParallelism), s.MaxDegreeOfParallelism, "'MaxDegreeOfParallelism' must be at least 1.");
        if (s.GridLevels < 2) throw new ArgumentOutOfRangeException(nameof(s.GridLevels), s.GridLevels, "'GridLevels' must be at least 2.");
        if (s.TimeBudget is { } budget && !(budget > TimeSpan.Zero))
        {
            throw new ArgumentOutOfRangeException(nameof(s.TimeBudget), budget, $"'TimeBudget' must be positive (or null for none), got {budget}.");
        }
        if (s.Parameters is { Count: 0 })
        {
            throw new ArgumentException("'Parameters' is empty: name at least one option to sweep, or leave it null to sweep every [Range]/[Choice] option.", nameof(s.Parameters));
        }
    }
}
