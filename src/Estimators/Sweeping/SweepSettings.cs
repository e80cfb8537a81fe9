namespace Microsoft.ML.Perturbed.Estimators.Sweeping;

/// <summary>Settings of a sweep; every one has a default.</summary>
public sealed class SweepSettings
{
    /// <summary>The tuner; default <see cref="SweepTunerKind.CostFrugal"/>.</summary>
    public SweepTunerKind Tuner { get; set; } = SweepTunerKind.CostFrugal;

    /// <summary>The most trials; default 12 (a grid stops at its size).</summary>
    public int Trials { get; set; } = 12;

    /// <summary>A time budget, positive: no trial starts after it (null, the default: no limit).</summary>
    public TimeSpan? TimeBudget { get; set; }

    /// <summary>Cross-validation folds per trial; default 5. 0 uses one split holding out <see cref="ValidationFraction"/>.</summary>
    public int NumberOfFolds { get; set; } = 5;

    /// <summary>With <see cref="NumberOfFolds"/> = 0: the share of rows to validate on; default 0.2.</summary>
    public double ValidationFraction { get; set; } = 0.2;

    /// <summary>Only these options are swept (null, the default: every option with a search-space attribute).</summary>
    public IReadOnlyList<string>? Parameters { get; set; }

    /// <summary>Levels per range of the grid tuner; default 5.</summary>
    public int GridLevels { get; set; } = 5;

    /// <summary>Seed of the tuner, the folds and every trial's training; default 0.</summary>
    public int Seed { get; set; }

    /// <summary>Trials run at once; default 1. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; set; } = 1;

    /// <summary>Whether to refit the best options on all the data; default true.</summary>
    public bool RefitBest { get; set; } = true;

    /// <summary>Receives every finished trial.</summary>
    public IProgress<SweepTrial>? Progress { get; set; }

    /// <summary>Stops the sweep between trials (as does <c>MLContext.CancelExecution()</c>).</summary>
    public CancellationToken CancellationToken { get; set; }
}
