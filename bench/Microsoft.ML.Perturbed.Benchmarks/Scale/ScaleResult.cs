namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>
/// One measurement of the scale benchmark, as a child process prints it (one JSON line after <see cref="Marker"/>): what
/// ran, on how many rows, the phases' wall times, the child's peak resident set (VmHWM) and the metrics it computed.
/// </summary>
public sealed record ScaleResult
{
    /// <summary>The prefix of the line that carries the JSON, so that the child's other output is free text.</summary>
    public const string Marker = "SCALE-RESULT ";

    /// <summary>The benchmark: "text", "synth", "sqlite".</summary>
    public string Benchmark { get; init; } = "";

    /// <summary>The trainer or the phase measured ("perturbed", "sdca-maxent", "read", …).</summary>
    public string Trainer { get; init; } = "";

    /// <summary>A free label of the setting (epochs, hash bits, loading mode).</summary>
    public string Setting { get; init; } = "";

    /// <summary>Training rows (or rows read).</summary>
    public long Rows { get; init; }

    /// <summary>Feature slots of the vector the trainer sees.</summary>
    public long Features { get; init; }

    /// <summary>Passes over the data the trainer was asked for (0 where it chooses itself or does not train).</summary>
    public int Epochs { get; init; }

    /// <summary>Seconds of the trainer's Fit (or of the measured pass).</summary>
    public double FitSeconds { get; init; }

    /// <summary>Seconds of everything before the trainer (loading, featurizer fit), for the record.</summary>
    public double PrepareSeconds { get; init; }

    /// <summary>Seconds spent inside the training steps (the session's Step calls), where measured; NaN otherwise.</summary>
    public double StepSeconds { get; init; } = double.NaN;

    /// <summary>Peak resident set of the child process (VmHWM), bytes.</summary>
    public long PeakRssBytes { get; init; }

    /// <summary>Managed heap size after the run (GC's view), bytes.</summary>
    public long ManagedHeapBytes { get; init; }

    /// <summary>Test accuracy (micro), NaN where not measured.</summary>
    public double Accuracy { get; init; } = double.NaN;

    /// <summary>Test top-3 accuracy, NaN where not measured.</summary>
    public double Top3Accuracy { get; init; } = double.NaN;

    /// <summary>Label ranking: test Spearman correlation, NaN where not measured.</summary>
    public double Spearman { get; init; } = double.NaN;

    /// <summary>Rows in the test set, 0 where none.</summary>
    public long TestRows { get; init; }

    /// <summary>Anything else worth a line in the report.</summary>
    public string Note { get; init; } = "";

    /// <summary>The command that produced the measurement (filled in by the parent process).</summary>
    public string Command { get; init; } = "";

    /// <summary>The git commit of the working tree that produced it, with "+dirty" when it had changes.</summary>
    public string Commit { get; init; } = "";

    /// <summary>When it was measured (UTC, ISO 8601).</summary>
    public string When { get; init; } = "";
}
