using System.Data.Common;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Data;

namespace Microsoft.ML.Perturbed.Estimators.Data;

/// <summary>
/// The rows of an ML.NET data view as a <see cref="RowStream"/> (docs/architecture.md, "Data sources"): each pass opens a
/// cursor over the feature, label and weight columns and reads them row by row — sparse feature vectors stay sparse —
/// with the library's checks (vector size, finite values, the head's label rules). Rows with a missing value (NaN or ±∞
/// in the features, label or weight, a key label of 0) are skipped and counted, as ML.NET's trainers skip them, unless
/// the trainer is asked to throw. An optional filter on the row position holds rows out (validation split) the same way
/// on every pass.
/// </summary>
internal sealed class DataViewRowStream : RowStream
{
    private readonly IDataView _data;
    private readonly DataViewSchema.Column _features, _label;
    private readonly DataViewSchema.Column? _weight;
    private readonly Func<DataViewRowCursor, LabelDecoder> _bindLabel;
    private readonly Func<long, bool>? _keep;
    private readonly bool _throwOnMissing;

    public DataViewRowStream(IDataView data, DataViewSchema.Column features, DataViewSchema.Column label, int targetDimension,
        Func<DataViewRowCursor, LabelDecoder> bindLabel, DataViewSchema.Column? weight, string role, bool throwOnMissing,
        Func<long, bool>? keep = null, bool? sparse = null)
    {
        _data = data;
        _features = features;
        _label = label;
        _weight = weight;
        _bindLabel = bindLabel;
        _keep = keep;
        _throwOnMissing = throwOnMissing;
        Role = role;
        FeatureCount = ((VectorDataViewType)features.Type).Size;
        TargetDimension = targetDimension;
        IsSparse = sparse ?? FirstRowIsSparse();
    }

    /// <summary>What the rows are for, in messages ("Ranking training").</summary>
    public string Role { get; }

    public override int FeatureCount { get; }

    public override int TargetDimension { get; }

    /// <summary>Sparse when the first row's feature vector is stored sparse (as FeaturizeText, one-hot and hashing encoders give).</summary>
    public override bool IsSparse { get; }

    public override bool HasWeights => _weight is not null;

    /// <summary>Rows the last completed pass skipped for a missing value.</summary>
    public long SkippedRows { get; private set; }

    /// <summary>Rows the last completed pass read.</summary>
    public long ReadRows { get; private set; }

    /// <summary>The first skipped row's reason, for the log.</summary>
    public string? FirstSkipReason { get; private set; }

    public override RowStreamCursor OpenPass() => new Cursor(this);

    /// <summary>Runs a read of the data view; a database provider's failure comes back naming the query (when the view is a DatabaseLoader's).</summary>
    private T Read<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (DbException e)
        {
            string? query = ModelPersistence.MlNetDatabase.Query(_data);
            throw new InvalidOperationException($"Reading the {Role} data failed in the database: {e.Message}" + (query is null ? "" : $" Query: {query}"), e);
        }
    }

    private bool FirstRowIsSparse()
    {
        using DataViewRowCursor cursor = Read(() => _data.GetRowCursor([_features]));
        if (!Read(cursor.MoveNext)) return false;
        VBuffer<float> buffer = default;
        cursor.GetGetter<VBuffer<float>>(_features)(ref buffer);
        return !buffer.IsDense;
    }

    private sealed class Cursor : RowStreamCursor
    {
        private readonly DataViewRowStream _s;
        private readonly DataViewRowCursor _cursor;
        private readonly ValueGetter<VBuffer<float>> _getFeatures;
        private readonly ValueGetter<float>? _getWeight;
        private readonly LabelDecoder _decode;
        private readonly float[] _target;
        private VBuffer<float> _buffer;
        private long _skipped, _read;
        private string? _firstReason;

        public Cursor(DataViewRowStream stream)
        {
            _s = stream;
            DataViewSchema.Column[] needed = stream._weight is { } w ? [stream._features, stream._label, w] : [stream._features, stream._label];
            _cursor = stream.Read(() => stream._data.GetRowCursor(needed.Distinct()));
            _getFeatures = _cursor.GetGetter<VBuffer<float>>(stream._features);
            _getWeight = stream._weight is { } column ? _cursor.GetGetter<float>(column) : null;
            _decode = stream._bindLabel(_cursor);
            _target = new float[stream.TargetDimension];
        }

        public override bool ReadRow(TrainingRows destination)
        {
            while (_s.Read(_cursor.MoveNext))
            {
                long row = _cursor.Position;
                if (_s._keep is { } keep && !keep(row)) continue;
                float weight = 1;
                try
                {
                    _getFeatures(ref _buffer);
                    VectorColumns.CheckFinite(_buffer, _s.FeatureCount, _s._features.Name, row, _s.Role);
                    _decode(_target, row);
                    if (_getWeight is not null)
                    {
                        _getWeight(ref weight);
                        if (!float.IsFinite(weight)) throw new MissingValueException($"Column '{_s._weight!.Value.Name}' row {row} holds the weight {weight}; example weights must be finite and ≥ 0.");
                        if (!(weight >= 0)) throw new InvalidOperationException($"Column '{_s._weight!.Value.Name}' row {row} holds the weight {weight}; example weights must be finite and ≥ 0.");
                    }
                }
                catch (MissingValueException e)
                {
                    if (_s._throwOnMissing) throw new InvalidOperationException(e.Message + " (ThrowOnMissingValues is set; by default such rows are skipped.)");
                    _skipped++;
                    _firstReason ??= e.Message;
                    continue;
                }
                if (_buffer.IsDense)
                {
                    destination.Add(_buffer.GetValues(), _target, weight);
                }
                else
                {
                    destination.Add(_buffer.GetIndices(), _buffer.GetValues(), _target, weight);
                }
                _read++;
                return true;
            }
            _s.SkippedRows = _skipped;
            _s.ReadRows = _read;
            _s.FirstSkipReason = _firstReason;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _cursor.Dispose();
        }
    }
}
