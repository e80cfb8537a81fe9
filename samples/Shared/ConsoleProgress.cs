// Shared by the samples and the experiments (linked into each project): progress of a long run, on the console.
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Perturbed.Estimators.Sweeping;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Samples;

/// <summary>
/// Progress of a run of <c>total</c> steps (epochs over all fits, or sweep trials): "label: 12/300 epochs, loss 0.41,
/// 4 s, about 9 s left". On a terminal one line is rewritten at every step; into a redirected output a line is written
/// at most every <c>interval</c> (default 2 s) and at the end, so logs stay short. Pass <see cref="Epochs"/> as a trainer's
/// <c>Progress</c> option (per epoch) and <see cref="Trials"/> as a sweep's (per trial). Thread-safe.
/// </summary>
internal sealed class ConsoleProgress
{
    private readonly TextWriter _writer;
    private readonly string _label, _unit;
    private readonly int _total;
    private readonly TimeSpan _interval;
    private readonly bool _terminal;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly object _lock = new();
    private TimeSpan? _lastWrite;
    private int _done;
    private bool _open;

    public ConsoleProgress(TextWriter writer, string label, int total, string unit, TimeSpan? interval = null)
    {
        _writer = writer;
        _label = label;
        _total = Math.Max(1, total);
        _unit = unit;
        _interval = interval ?? TimeSpan.FromSeconds(2);
        _terminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
    }

    /// <summary>Per-epoch progress for a trainer's <c>Progress</c> option.</summary>
    public IProgress<TrainingProgress> Epochs => new Relay<TrainingProgress>(p => Step(string.Create(CultureInfo.InvariantCulture, $"loss {p.TrainingLoss:G3}")));

    /// <summary>Per-trial progress for a sweep's <c>Progress</c> setting (each trial is also printed in full).</summary>
    public IProgress<SweepTrial> Trials => new Relay<SweepTrial>(t => Step(t.ToString(), always: true));

    /// <summary>One step done; <paramref name="detail"/> goes on the line.</summary>
    public void Step(string? detail = null, bool always = false)
    {
        lock (_lock)
        {
            _done++;
            TimeSpan elapsed = _watch.Elapsed;
            bool last = _done >= _total;
            if (!_terminal && !always && !last && _lastWrite is { } previous && elapsed - previous < _interval) return;
            _lastWrite = elapsed;
            string left = last ? "" : string.Create(CultureInfo.InvariantCulture, $", about {elapsed.TotalSeconds / _done * (_total - _done):F0} s left");
            string line = string.Create(CultureInfo.InvariantCulture, $"  {_label}: {Math.Min(_done, _total)}/{_total} {_unit}{(detail is null ? "" : ", " + detail)}, {elapsed.TotalSeconds:F0} s{left}");
            if (_terminal && !always)
            {
                _writer.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth > 0 ? Console.WindowWidth - 1 : 100, 160)));
                _open = true;
                if (last) Close();
            }
            else
            {
                if (_open) Close();
                _writer.WriteLine(line);
            }
        }
    }

    /// <summary>Ends the rewritten line, if one is open.</summary>
    public void Close()
    {
        lock (_lock)
        {
            if (!_open) return;
            _writer.WriteLine();
            _open = false;
        }
    }

    private sealed class Relay<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
