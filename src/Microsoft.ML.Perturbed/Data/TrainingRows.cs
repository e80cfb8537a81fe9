using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Data;

/// <summary>
/// A growable block of training rows (docs/architecture.md, "Data sources"): features, dense (<c>[Count × FeatureCount]</c>,
/// row-major) or sparse (compressed rows: <see cref="RowStarts"/>, <see cref="Indices"/>, <see cref="Values"/>), a target
/// of <see cref="TargetDimension"/> values per row and, when <see cref="HasWeights"/>, one example weight per row. The
/// training loop reads mini-batches into one; a streaming source appends rows to one. Buffers grow as needed and are
/// reused after <see cref="Clear"/>, so a reader allocates nothing once warm.
/// </summary>
public sealed class TrainingRows
{
    private float[] _dense = [], _values = [], _targets = [], _weights = [];
    private int[] _indices = [], _starts = [0];
    private int _nonZeros;

    /// <summary>Creates an empty block.</summary>
    /// <param name="featureCount">Number p of features (slots) per row.</param>
    /// <param name="targetDimension">Number of target values per row.</param>
    /// <param name="isSparse">Whether features are stored as compressed sparse rows (true) or dense rows (false).</param>
    /// <param name="hasWeights">Whether rows carry an example weight.</param>
    public TrainingRows(int featureCount, int targetDimension, bool isSparse, bool hasWeights)
    {
        Guard.Positive(featureCount, nameof(featureCount));
        Guard.Positive(targetDimension, nameof(targetDimension));
        FeatureCount = featureCount;
        TargetDimension = targetDimension;
        IsSparse = isSparse;
        HasWeights = hasWeights;
    }

    /// <summary>Number p of features per row.</summary>
    public int FeatureCount { get; }

    /// <summary>Number of target values per row.</summary>
    public int TargetDimension { get; }

    /// <summary>Whether features are stored sparse (compressed rows).</summary>
    public bool IsSparse { get; }

    /// <summary>Whether rows carry example weights.</summary>
    public bool HasWeights { get; }

    /// <summary>Number of rows held.</summary>
    public int Count { get; private set; }

    /// <summary>Dense features, <c>[Count × FeatureCount]</c> (dense blocks only).</summary>
    public ReadOnlySpan<float> DenseFeatures => IsSparse
        ? throw new InvalidOperationException("These rows are sparse; read RowStarts, Indices and Values.")
        : _dense.AsSpan(0, Count * FeatureCount);

    /// <summary>Sparse rows: row r's entries are <c>[RowStarts[r], RowStarts[r + 1])</c> of <see cref="Indices"/> and <see cref="Values"/> (Count + 1 entries).</summary>
    public ReadOnlySpan<int> RowStarts => SparseOnly(_starts.AsSpan(0, Count + 1));

    /// <summary>Sparse rows: the slot of each stored value, ascending within a row.</summary>
    public ReadOnlySpan<int> Indices => SparseOnly(_indices.AsSpan(0, _nonZeros));

    /// <summary>Sparse rows: the stored values.</summary>
    public ReadOnlySpan<float> Values => SparseOnly(_values.AsSpan(0, _nonZeros));

    /// <summary>Targets, <c>[Count × TargetDimension]</c>.</summary>
    public ReadOnlySpan<float> Targets => _targets.AsSpan(0, Count * TargetDimension);

    /// <summary>Example weights (Count), or empty without weights.</summary>
    public ReadOnlySpan<float> Weights => HasWeights ? _weights.AsSpan(0, Count) : default;

    /// <summary>Number of stored feature values: Count × FeatureCount when dense, the non-zeros when sparse.</summary>
    public long StoredValues => IsSparse ? _nonZeros : (long)Count * FeatureCount;

    /// <summary>Removes every row (the buffers are kept).</summary>
    public void Clear()
    {
        Count = 0;
        _nonZeros = 0;
    }

    /// <summary>Appends a row of dense features (stored sparse, without its zeros, in a sparse block).</summary>
    /// <exception cref="ArgumentException">A length does not match.</exception>
    public void Add(ReadOnlySpan<float> features, ReadOnlySpan<float> target, float weight = 1)
    {
        Guard.Length(features.Length, FeatureCount, nameof(features), "one value per feature");
        if (IsSparse)
        {
            int nonZeros = features.Length - features.Count(0f);
            EnsureSparse(nonZeros);
            for (int j = 0; j < features.Length; j++)
            {
                if (features[j] != 0)
                {
                    _indices[_nonZeros] = j;
                    _values[_nonZeros++] = features[j];
                }
            }
            _starts[Count + 1] = _nonZeros;
        }
        else
        {
            Grow(ref _dense, (Count + 1) * FeatureCount);
            features.CopyTo(_dense.AsSpan(Count * FeatureCount));
        }
        AddTarget(target, weight);
    }

    /// <summary>Appends a sparse row: slots <paramref name="indices"/> (ascending, distinct, in [0, FeatureCount)) hold <paramref name="values"/>, every other slot 0.</summary>
    /// <exception cref="ArgumentException">Indices out of order or range, or a length does not match.</exception>
    public void Add(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, ReadOnlySpan<float> target, float weight = 1)
    {
        Guard.Length(values.Length, indices.Length, nameof(values), "one value per index");
        for (int i = 0; i < indices.Length; i++)
        {
            if (indices[i] < 0 || indices[i] >= FeatureCount || (i > 0 && indices[i] <= indices[i - 1]))
            {
                throw new ArgumentException($"Expected ascending distinct slots in [0, {FeatureCount}), found {indices[i]} at position {i}.", nameof(indices));
            }
        }
        if (IsSparse)
        {
            EnsureSparse(indices.Length);
            indices.CopyTo(_indices.AsSpan(_nonZeros));
            values.CopyTo(_values.AsSpan(_nonZeros));
            _nonZeros += indices.Length;
            _starts[Count + 1] = _nonZeros;
        }
        else
        {
            Grow(ref _dense, (Count + 1) * FeatureCount);
            Span<float> row = _dense.AsSpan(Count * FeatureCount, FeatureCount);
            row.Clear();
            for (int i = 0; i < indices.Length; i++) row[indices[i]] = values[i];
        }
        AddTarget(target, weight);
    }

    /// <summary>Appends row <paramref name="row"/> of <paramref name="source"/> (same shape; its weight is dropped when this block has none).</summary>
    public void AddRow(TrainingRows source, int row)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.FeatureCount != FeatureCount || source.TargetDimension != TargetDimension || (HasWeights && !source.HasWeights))
        {
            throw new ArgumentException($"Rows of {source.FeatureCount} features and {source.TargetDimension} targets cannot join rows of {FeatureCount} and {TargetDimension}.", nameof(source));
        }
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)source.Count, nameof(row));
        AddRow(source, row, source._targets.AsSpan(row * TargetDimension, TargetDimension));
    }

    /// <summary>
    /// Appends row <paramref name="row"/> of <paramref name="source"/> with <paramref name="target"/> in place of its target
    /// (a loss's encoded form of it, of this block's length; <see cref="StructuredLoss.EncodeTargets"/>).
    /// </summary>
    internal void AddRow(TrainingRows source, int row, ReadOnlySpan<float> target)
    {
        if (source.FeatureCount != FeatureCount || (HasWeights && !source.HasWeights))
        {
            throw new ArgumentException($"Rows of {source.FeatureCount} features{(source.HasWeights ? "" : " without weights")} cannot join rows of {FeatureCount}.", nameof(source));
        }
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)source.Count, nameof(row));
        float weight = HasWeights ? source._weights[row] : 1;   // an unweighted block keeps features and target only
        if (source.IsSparse)
        {
            int start = source._starts[row], end = source._starts[row + 1];
            AddTrusted(source._indices.AsSpan(start, end - start), source._values.AsSpan(start, end - start), target, weight);
        }
        else
        {
            Add(source._dense.AsSpan(row * FeatureCount, FeatureCount), target, weight);
        }
    }

    /// <summary>Writes the features as dense rows into <paramref name="destination"/> (<c>[Count × FeatureCount]</c>).</summary>
    public void CopyDenseTo(Span<float> destination)
    {
        Guard.Length(destination.Length, Count * FeatureCount, nameof(destination), "Count × FeatureCount values");
        if (!IsSparse)
        {
            DenseFeatures.CopyTo(destination);
            return;
        }
        destination.Clear();
        for (int r = 0; r < Count; r++)
        {
            Span<float> row = destination.Slice(r * FeatureCount, FeatureCount);
            for (int i = _starts[r]; i < _starts[r + 1]; i++) row[_indices[i]] = _values[i];
        }
    }

    /// <summary>
    /// What is wrong with row <paramref name="r"/> (a feature, target or weight that is not finite, a negative weight), naming
    /// the slot, or null when the row is usable; <paramref name="label"/> is the row's number in messages.
    /// </summary>
    internal string? Problem(int r, long label)
    {
        if (IsSparse)
        {
            ReadOnlySpan<float> values = _values.AsSpan(_starts[r], _starts[r + 1] - _starts[r]);
            int bad = values.IndexOfAnyExceptInRange(float.MinValue, float.MaxValue);
            if (bad >= 0) return $"Row {label} holds {values[bad]} in feature slot {_indices[_starts[r] + bad]}; training needs finite values.";
        }
        else
        {
            ReadOnlySpan<float> x = _dense.AsSpan(r * FeatureCount, FeatureCount);
            int bad = x.IndexOfAnyExceptInRange(float.MinValue, float.MaxValue);
            if (bad >= 0) return $"Row {label} holds {x[bad]} in feature slot {bad}; training needs finite values.";
        }
        ReadOnlySpan<float> y = _targets.AsSpan(r * TargetDimension, TargetDimension);
        int badTarget = y.IndexOfAnyExceptInRange(float.MinValue, float.MaxValue);
        if (badTarget >= 0) return $"Row {label} holds {y[badTarget]} in target slot {badTarget}; training needs finite values.";
        if (HasWeights && !(_weights[r] >= 0 && float.IsFinite(_weights[r])))
        {
            return $"Row {label} holds the weight {_weights[r]}; example weights must be finite and ≥ 0.";
        }
        return null;
    }

    // A sparse row already known to be well formed (from another block).
    private void AddTrusted(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, ReadOnlySpan<float> target, float weight)
    {
        if (!IsSparse)
        {
            Add(indices, values, target, weight);
            return;
        }
        EnsureSparse(indices.Length);
        indices.CopyTo(_indices.AsSpan(_nonZeros));
        values.CopyTo(_values.AsSpan(_nonZeros));
        _nonZeros += indices.Length;
        _starts[Count + 1] = _nonZeros;
        AddTarget(target, weight);
    }

    private void AddTarget(ReadOnlySpan<float> target, float weight)
    {
        Guard.Length(target.Length, TargetDimension, nameof(target), "one value per target slot");
        Grow(ref _targets, (Count + 1) * TargetDimension);
        target.CopyTo(_targets.AsSpan(Count * TargetDimension));
        if (HasWeights)
        {
            Grow(ref _weights, Count + 1);
            _weights[Count] = weight;
        }
        Count++;
    }

    private void EnsureSparse(int extra)
    {
        Grow(ref _indices, _nonZeros + extra);
        Grow(ref _values, _nonZeros + extra);
        Grow(ref _starts, Count + 2);
    }

    private ReadOnlySpan<T> SparseOnly<T>(ReadOnlySpan<T> span) =>
        IsSparse ? span : throw new InvalidOperationException("These rows are dense; read DenseFeatures.");

    private static void Grow<T>(ref T[] array, long needed)
    {
        if (needed <= array.Length) return;
        if (needed > Array.MaxLength)
        {
            throw new InvalidOperationException($"A block of training rows cannot hold more than {Array.MaxLength} values; stream the data instead.");
        }
        Array.Resize(ref array, (int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * array.Length)));
    }
}
