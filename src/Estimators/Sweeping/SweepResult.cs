namespace Microsoft.ML.Perturbed.Estimators.Sweeping;

/// <summary>The outcome of a sweep.</summary>
/// <typeparam name="TOptions">The options class swept.</typeparam>
public sealed class SweepResult<TOptions>
{
    internal SweepResult(IReadOnlyList<SweepTrial> trials, SweepTrial best, TOptions bestOptions, ITransformer? model, string tuner)
    {
        Trials = trials;
        Best = best;
        BestOptions = bestOptions;
        Model = model;
        Tuner = tuner;
    }

    /// <summary>Every trial, in order of proposal.</summary>
    public IReadOnlyList<SweepTrial> Trials { get; }

    /// <summary>The best trial.</summary>
    public SweepTrial Best { get; }

    /// <summary>The options of the best trial (a copy of the base options with the swept values set).</summary>
    public TOptions BestOptions { get; }

    /// <summary>The pipeline of the best options refit on all the data (null when <see cref="SweepSettings.RefitBest"/> is false).</summary>
    public ITransformer? Model { get; }

    /// <summary>The tuner's name.</summary>
    public string Tuner { get; }
}
