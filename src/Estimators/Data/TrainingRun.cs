using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Data;

/// <summary>
/// What a trainer takes from its <see cref="MLContext"/>: a host (and from it a seed, like ML.NET's own trainers), a
/// log channel for per-epoch progress (also reported to the options' <c>Progress</c>), and cancellation by <c>MLContext.CancelExecution()</c>, checked when training starts and polled every 10 ms into a
/// token the core trainer checks between mini-batches.
/// </summary>
internal sealed class TrainingRun : IDisposable
{
    private readonly IHost _host;
    private readonly IChannel _channel;
    private readonly CancellationTokenSource _cancel = new();
    private readonly Timer _poll;
    private readonly List<DataViewRowStream> _watched = [];

    public TrainingRun(IHost host, IProgress<TrainingProgress>? progress)
    {
        _host = host;
        _channel = host.Start("Training");
        // A cancellation requested before Fit stops it at the first mini-batch; one during Fit within 10 ms.
        if (MlNetInternals.IsCanceled(_host)) _cancel.Cancel();
        _poll = new Timer(_ =>
        {
            if (MlNetInternals.IsCanceled(_host)) _cancel.Cancel();
        }, null, 10, 10);
        Progress = new ChannelProgress(_channel, progress);
    }

    /// <summary>The seed a trainer uses when its options set none: the next value of the host's random source.</summary>
    public static int NextSeed(IHost host) => host.Rand.Next();

    /// <summary>Per-epoch progress, written to the context's log and passed on to the options' <c>Progress</c>.</summary>
    public IProgress<TrainingProgress> Progress { get; }

    /// <summary>Cancelled when the context's execution is cancelled.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>Writes a line to the context's log.</summary>
    public void Info(string message) => _channel.Info(MessageSensitivity.None, message);

    /// <summary>Logs how many rows a pass of <paramref name="stream"/> skipped for missing values (nothing when none).</summary>
    public void ReportSkipped(DataViewRowStream stream)
    {
        if (stream.SkippedRows > 0)
        {
            _channel.Warning(MessageSensitivity.None, $"{stream.Role}: skipped {stream.SkippedRows} of {stream.SkippedRows + stream.ReadRows} rows with missing values " +
                $"(NaN or ∞ features, label or weight, or a missing key label), as ML.NET's trainers do; first: {stream.FirstSkipReason} " +
                "Set ThrowOnMissingValues to fail on them instead.");
        }
    }

    /// <summary>A streamed source whose skipped rows are logged when training ends.</summary>
    public void Watch(DataViewRowStream stream) => _watched.Add(stream);

    public void Dispose()
    {
        foreach (DataViewRowStream stream in _watched) ReportSkipped(stream);
        ((ChannelProgress)Progress).ReportKept();
        _poll.Dispose();
        _channel.Dispose();
        _cancel.Dispose();
    }

    /// <summary>Writes each epoch to the log (and when early stopping fires), then passes it on to the user's progress.</summary>
    private sealed class ChannelProgress(IChannel channel, IProgress<TrainingProgress>? user) : IProgress<TrainingProgress>
    {
        private TrainingProgress _last;
        private double _bestLoss = double.NaN;

        public void Report(TrainingProgress value)
        {
            channel.Info(MessageSensitivity.None, $"epoch {value.Epoch}: training loss {value.TrainingLoss:G6}"
                + (double.IsNaN(value.ValidationLoss) ? "" : $", validation loss {value.ValidationLoss:G6}"));
            if (value.BestEpoch == value.Epoch) _bestLoss = value.ValidationLoss;
            if (value.StoppedEarly)
            {
                channel.Info(MessageSensitivity.None, $"early stopping at epoch {value.Epoch}: the validation loss has not improved since epoch {value.BestEpoch}");
            }
            _last = value;
            user?.Report(value);
        }

        /// <summary>Logs which epoch's model training kept (the best validation loss), when there was a validation set.</summary>
        public void ReportKept()
        {
            if (_last.BestEpoch > 0)
            {
                channel.Info(MessageSensitivity.None, $"kept the model of epoch {_last.BestEpoch} of {_last.Epoch} (validation loss {_bestLoss:G6})");
            }
        }
    }
}
