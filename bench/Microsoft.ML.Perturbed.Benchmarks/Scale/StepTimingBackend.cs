using System.Diagnostics;
using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>
/// The managed CPU backend with a stopwatch around each training step, so that a fit's time splits into the steps
/// (scoring, loss, gradient, update) and the rest (reading the data view, the shuffle pool, assembling batches).
/// The session is the CPU backend's own, so training is unchanged. It also notes the resident set around the session's
/// creation (the model and optimizer state; zeroed pages count once written) and around <c>Result</c> (the returned model).
/// </summary>
public sealed class StepTimingBackend : IStructuredTrainingBackend
{
    private long _ticks, _steps;

    /// <summary>Seconds spent in Step so far.</summary>
    public double StepSeconds => (double)Interlocked.Read(ref _ticks) / Stopwatch.Frequency;

    /// <summary>Steps taken so far.</summary>
    public long Steps => Interlocked.Read(ref _steps);

    /// <summary>VmRSS just before the session was created, after it, before the first step, before and after Result (bytes).</summary>
    public long RssBeforeStart { get; private set; }

    /// <inheritdoc cref="RssBeforeStart"/>
    public long RssAfterStart { get; private set; }

    /// <inheritdoc cref="RssBeforeStart"/>
    public long RssBeforeResult { get; private set; }

    /// <inheritdoc cref="RssBeforeStart"/>
    public long RssAfterResult { get; private set; }

    /// <summary>"RSS (MiB): 300 → 900 at the session's start, 1700 before Result, 2200 after" for the notes.</summary>
    public string MemorySummary() => RssBeforeStart == 0 ? "" :
        $"VmRSS {RssBeforeStart >> 20} MiB before the session, {RssAfterStart >> 20} after its creation, {RssBeforeResult >> 20} before Result, {RssAfterResult >> 20} after";

    ITrainingSession IStructuredTrainingBackend.Start(Oracle head, StructuredLoss loss, int featureCount, StructuredTrainerOptions options)
    {
        RssBeforeStart = PeakMemory.ResidentBytes();
        var session = new Timed(CpuTrainingBackend.Instance.Start(head, loss, featureCount, options), this);
        RssAfterStart = PeakMemory.ResidentBytes();
        return session;
    }

    ITrainingSession IStructuredTrainingBackend.Start(Oracle head, StructuredLoss loss, TrainingSource data, StructuredTrainerOptions options)
    {
        RssBeforeStart = PeakMemory.ResidentBytes();
        var session = new Timed(CpuTrainingBackend.Instance.Start(head, loss, data, options), this);
        RssAfterStart = PeakMemory.ResidentBytes();
        return session;
    }

    private sealed class Timed(ITrainingSession inner, StepTimingBackend owner) : ITrainingSession
    {
        public double Step(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, ulong draw)
        {
            long start = Stopwatch.GetTimestamp();
            try { return inner.Step(features, targets, weights, draw); }
            finally { owner.Add(start); }
        }

        public double Step(TrainingRows batch, ulong draw)
        {
            long start = Stopwatch.GetTimestamp();
            try { return inner.Step(batch, draw); }
            finally { owner.Add(start); }
        }

        public double Loss(ReadOnlySpan<float> features, ReadOnlySpan<float> targets, ulong draw) => inner.Loss(features, targets, draw);

        public double Loss(TrainingRows rows, ulong draw) => inner.Loss(rows, draw);

        public object Snapshot() => inner.Snapshot();

        public void Restore(object snapshot) => inner.Restore(snapshot);

        public ITrainableModel Result()
        {
            owner.RssBeforeResult = PeakMemory.ResidentBytes();
            ITrainableModel model = inner.Result();
            owner.RssAfterResult = PeakMemory.ResidentBytes();
            return model;
        }

        public void Dispose() => inner.Dispose();
    }

    private void Add(long start)
    {
        Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _steps);
    }
}
