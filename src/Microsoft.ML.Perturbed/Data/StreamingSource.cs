namespace Microsoft.ML.Perturbed.Data;

/// <summary>
/// Rows read from a <see cref="RowStream"/> pass after pass, shuffled through a pool of at most <c>poolSize</c> rows
/// (<see cref="TrainingSource.FromStream"/> documents the draw). Holds the pool and the batch, never the data.
/// </summary>
internal sealed class StreamingSource : TrainingSource
{
    private readonly RowStream _stream;
    private readonly int _poolSize;

    public StreamingSource(RowStream stream, int poolSize)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Guard.Positive(poolSize, "shufflePoolSize");
        Guard.Positive(stream.FeatureCount, nameof(stream.FeatureCount));
        Guard.Positive(stream.TargetDimension, nameof(stream.TargetDimension));
        _stream = stream;
        _poolSize = poolSize;
    }

    public override int FeatureCount => _stream.FeatureCount;

    public override int TargetDimension => _stream.TargetDimension;

    public override bool IsSparse => _stream.IsSparse;

    public override bool HasWeights => _stream.HasWeights;

    public override long? RowCount => null;

    /// <summary>The most rows any reader of this source has held at once in its pool (for tests of bounded memory).</summary>
    internal int PeakPooledRows { get; private set; }

    internal override BatchReader OpenReader(int seed, bool shuffle) => new Reader(this, seed, shuffle);

    private sealed class Reader(StreamingSource source, int seed, bool shuffle) : BatchReader
    {
        private readonly System.Random _random = new(seed);
        private readonly List<TrainingRows> _pool = [];
        private RowStreamCursor? _cursor;
        private int _pooled, _passes;
        private long _rowsThisPass, _rowsFirstPass = -1;
        private bool _exhausted;

        public override void StartPass()
        {
            _cursor?.Dispose();
            _cursor = source._stream.OpenPass() ?? throw new InvalidOperationException($"{source._stream.GetType().Name}.OpenPass returned null.");
            _passes++;
            _rowsThisPass = 0;
            _pooled = 0;
            _exhausted = false;
        }

        public override bool Read(TrainingRows batch, int maxRows)
        {
            ArgumentNullException.ThrowIfNull(batch);
            if (_cursor is null) throw new InvalidOperationException($"Call {nameof(StartPass)} before {nameof(Read)}.");
            batch.Clear();
            if (!shuffle || source._poolSize == 1)
            {
                while (batch.Count < maxRows && Next(batch)) { }
            }
            else
            {
                while (_pooled < source._poolSize && Pull()) { }   // fills the pool at the start of a pass
                source.PeakPooledRows = Math.Max(source.PeakPooledRows, _pooled);
                while (batch.Count < maxRows && _pooled > 0)
                {
                    int i = _random.Next(_pooled);
                    batch.AddRow(_pool[i], 0);
                    _pool[i].Clear();
                    if (!Next(_pool[i]))
                    {
                        // The stream is done: the pool's last row takes the emptied place.
                        (_pool[i], _pool[_pooled - 1]) = (_pool[_pooled - 1], _pool[i]);
                        _pooled--;
                    }
                }
            }
            return batch.Count > 0;
        }

        // Appends one streamed row to a fresh pool slot.
        private bool Pull()
        {
            if (_pooled == _pool.Count) _pool.Add(new TrainingRows(source.FeatureCount, source.TargetDimension, source.IsSparse, source.HasWeights));
            TrainingRows slot = _pool[_pooled];
            slot.Clear();
            if (!Next(slot)) return false;
            _pooled++;
            return true;
        }

        // Appends the stream's next row; at the end of the pass checks that the pass had as many rows as the first.
        private bool Next(TrainingRows destination)
        {
            if (_exhausted) return false;
            int before = destination.Count;
            if (_cursor!.ReadRow(destination))
            {
                if (destination.Count != before + 1)
                {
                    throw new InvalidOperationException($"{source._stream.GetType().Name}: a cursor's ReadRow must append exactly one row, it appended {destination.Count - before}.");
                }
                if (destination.Problem(destination.Count - 1, _rowsThisPass) is { } problem) throw new InvalidOperationException(problem);
                _rowsThisPass++;
                return true;
            }
            _exhausted = true;
            if (_rowsThisPass == 0) throw new InvalidOperationException($"The training data has no rows (pass {_passes}).");
            if (_rowsFirstPass < 0)
            {
                _rowsFirstPass = _rowsThisPass;
            }
            else if (_rowsThisPass != _rowsFirstPass)
            {
                throw new InvalidOperationException($"The training data changed between passes: pass 1 read {_rowsFirstPass} rows, pass {_passes} read {_rowsThisPass}. " +
                    "A streamed source must give the same rows on every pass (cache it, e.g. with AppendCacheCheckpoint, if it cannot).");
            }
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _cursor?.Dispose();
        }
    }
}
