using System.Diagnostics;
using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>
/// The managed CPU backend with a stopwatch around each training step, so that a fit's time splits into the steps
/// (scoring, loss, gradient, update) and the rest (reading the data view, the shuffle pool, assembling batches).
/// The session is the CPU backend's own, so training is unchanged.
/// </summary>
public sealed class StepTimingBackend : IStructuredTrainingBackend
{
    private long _ticks, _steps;

    /// <summary>Seconds spent in Step so far.</summary>
    public double StepSeconds => (double)Interlocked.Read(ref _ticks) / Stopwatch.Frequency;

    /// <summary>Steps taken so far.</summary>
    public long Steps => Interlocked.Read(ref _steps);

    public ITrainingSession Start(Oracle head, StructuredLoss loss, int featureCount, StructuredTrainerOptions options) =>
        new Timed(CpuTrainingBackend.Instance.Start(head, loss, featureCount, options), this);

    public ITrainingSession Start(Oracle head, StructuredLoss loss, TrainingSource data, StructuredTrainerOptions options) =>
        new Timed(CpuTrainingBackend.Instance.Start(head, loss, data, options), this);

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

        public ITrainableModel Result() => inner.Result();

        public void Dispose() => inner.Dispose();
    }

    private void Add(long start)
    {
        Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _steps);
    }
}
