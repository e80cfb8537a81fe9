using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Data;

/// <summary>
/// The rows of a source with each target in a loss's encoded form (<see cref="StructuredLoss.EncodeTargets"/>), encoded
/// as each batch is read: a stream's rows are not held, so they are encoded again on every pass (in memory,
/// <see cref="InMemorySource"/> encodes every row once instead). The order, shuffle and weights are the source's.
/// </summary>
internal sealed class EncodedTargetSource : TrainingSource
{
    private readonly TrainingSource _source;
    private readonly StructuredLoss _loss;

    public EncodedTargetSource(TrainingSource source, StructuredLoss loss)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(loss);
        if (source.TargetDimension != loss.TargetDimension)
        {
            throw new ArgumentException($"The rows have {source.TargetDimension} target values; the loss {loss.Name} encodes {loss.TargetDimension}.", nameof(source));
        }
        (_source, _loss) = (source, loss);
    }

    public override int FeatureCount => _source.FeatureCount;

    public override int TargetDimension => _loss.EncodedTargetDimension;

    public override bool IsSparse => _source.IsSparse;

    public override bool HasWeights => _source.HasWeights;

    public override long? RowCount => _source.RowCount;

    internal override BatchReader OpenReader(int seed, bool shuffle) => new Reader(this, _source.OpenReader(seed, shuffle));

    private sealed class Reader(EncodedTargetSource owner, BatchReader inner) : BatchReader
    {
        private readonly TrainingRows _raw = new(owner.FeatureCount, owner._source.TargetDimension, owner.IsSparse, owner.HasWeights);
        private float[] _encoded = [];

        public override void StartPass() => inner.StartPass();

        public override bool Read(TrainingRows batch, int maxRows)
        {
            ArgumentNullException.ThrowIfNull(batch);
            batch.Clear();
            if (!inner.Read(_raw, maxRows)) return false;
            int t = owner.TargetDimension, length = _raw.Count * t;
            if (_encoded.Length < length) _encoded = new float[length];
            owner._loss.EncodeTargets(_raw.Targets, _encoded.AsSpan(0, length));
            for (int r = 0; r < _raw.Count; r++) batch.AddRow(_raw, r, _encoded.AsSpan(r * t, t));
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
