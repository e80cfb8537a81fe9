using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>
/// Records when each epoch of our trainer ends (its <c>Progress</c> option) and whether <c>DataLoading = Auto</c> fell back
/// to streaming (the line the trainer writes to the MLContext's log), for the report's notes.
/// </summary>
public sealed class EpochClock : IProgress<TrainingProgress>
{
    private readonly Stopwatch _watch = new();
    private readonly List<double> _ends = [];

    /// <summary>Listens to the context's log for the Auto fallback (null: not listening, so ML.NET's trainers run without a log subscriber).</summary>
    public EpochClock(MLContext? ml)
    {
        if (ml is null) return;
        ml.Log += (_, e) =>
        {
            if (e.Message.Contains("streaming them on every pass", StringComparison.Ordinal)) Streamed = true;
        };
    }

    /// <summary>Whether the trainer streamed its rows under DataLoading = Auto.</summary>
    public bool Streamed { get; private set; }

    /// <summary>Starts the clock (just before Fit).</summary>
    public void Start() => _watch.Restart();

    public void Report(TrainingProgress value) => _ends.Add(_watch.Elapsed.TotalSeconds);

    /// <summary>"epochs: first 12.3 s (from the start of Fit), later 4.5 s on average; streamed" or "" without epochs.</summary>
    public string Summary()
    {
        if (_ends.Count == 0) return Streamed ? "Auto streamed" : "";
        string later = _ends.Count > 1 ? $", later {(_ends[^1] - _ends[0]) / (_ends.Count - 1):F2} s on average" : "";
        string text = string.Create(CultureInfo.InvariantCulture, $"epoch 1 ended {_ends[0]:F2} s into Fit{later}");
        return Streamed ? text + "; Auto streamed" : text;
    }
}
