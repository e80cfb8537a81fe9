using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Data;

/// <summary>
/// Rows held in memory: dense arrays, or a <see cref="TrainingRows"/> block (dense or sparse). A shuffled reader draws one
/// permutation per pass from a <see cref="System.Random"/> seeded once, in place on the previous pass's order — the order
/// the training loop has always used, so dense results are the same bits as before sources existed.
/// </summary>
internal sealed class InMemorySource : TrainingSource
{
    private readonly ReadOnlyMemory<float> _features, _targets, _weights;
    private readonly TrainingRows? _rows;
    private readonly int _count;

    /// <summary>Checks and wraps dense arrays; messages name the arrays <paramref name="featuresName"/> and <paramref name="targetsName"/> (the caller's arguments).</summary>
    public InMemorySource(ReadOnlyMemory<float> features, ReadOnlyMemory<float> targets, ReadOnlyMemory<float> weights, int featureCount, int targetDimension,
        string featuresName = "features", string targetsName = "targets")
    {
        Guard.Positive(featureCount, nameof(featureCount));
        Guard.Positive(targetDimension, nameof(targetDimension));
        _count = Guard.RowCount(features.Length, featureCount, featuresName);
        Guard.Rows(targets.Length, _count, targetDimension, targetsName);
        Guard.Finite(features.Span, featureCount, featuresName);
        Guard.Finite(targets.Span, targetDimension, targetsName);
        if (!weights.IsEmpty)
        {
            Guard.Length(weights.Length, _count, nameof(weights), "one weight per row");
            CheckWeights(weights.Span);
        }
        (_features, _targets, _weights) = (features, targets, weights);
        FeatureCount = featureCount;
        TargetDimension = targetDimension;
        HasWeights = !weights.IsEmpty;
    }

    /// <summary>The rows of <paramref name="source"/> with <paramref name="targets"/> (<c>[n × targetDimension]</c>, checked) in place of theirs.</summary>
    private InMemorySource(InMemorySource source, float[] targets, int targetDimension)
    {
        (_features, _weights, _rows, _count) = (source._features, source._weights, source._rows, source._count);
        _targets = targets;
        FeatureCount = source.FeatureCount;
        TargetDimension = targetDimension;
        HasWeights = source.HasWeights;
        IsSparse = source.IsSparse;
    }

    public InMemorySource(TrainingRows rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("Expected at least one training row.", nameof(rows));
        for (int r = 0; r < rows.Count; r++)
        {
            if (rows.Problem(r, r) is { } problem) throw new ArgumentException(problem, nameof(rows));
        }
        if (rows.HasWeights) CheckWeights(rows.Weights);
        _rows = rows;
        _count = rows.Count;
        FeatureCount = rows.FeatureCount;
        TargetDimension = rows.TargetDimension;
        HasWeights = rows.HasWeights;
        IsSparse = rows.IsSparse;
    }

    public override int FeatureCount { get; }

    public override int TargetDimension { get; }

    public override bool IsSparse { get; }

    public override bool HasWeights { get; }

    public override long? RowCount => _count;

    internal override BatchReader OpenReader(int seed, bool shuffle) => new Reader(this, seed, shuffle);

    /// <summary>Every row's target encoded once (SPO+ solves each row's true costs here, not at every step).</summary>
    internal override TrainingSource WithEncodedTargets(StructuredLoss loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ReadOnlySpan<float> targets = _rows is { } rows ? rows.Targets : _targets.Span;
        var encoded = new float[(long)_count * loss.EncodedTargetDimension];
        loss.EncodeTargets(targets, encoded);
        return new InMemorySource(this, encoded, loss.EncodedTargetDimension);
    }

    /// <summary>Weights must be finite, ≥ 0, and not all 0.</summary>
    internal static void CheckWeights(ReadOnlySpan<float> weights)
    {
        double total = 0;
        for (int r = 0; r < weights.Length; r++)
        {
            if (!(weights[r] >= 0) || !float.IsFinite(weights[r]))
            {
                throw new ArgumentException($"Expected finite weights ≥ 0, found {weights[r]} at row {r}.", nameof(weights));
            }
            total += weights[r];
        }
        if (!(total > 0)) throw new ArgumentException("Every weight is 0; at least one row must count.", nameof(weights));
    }

    private sealed class Reader(InMemorySource source, int seed, bool shuffle) : BatchReader
    {
        private readonly int[] _order = Enumerable.Range(0, source._count).ToArray();
        private readonly System.Random _random = new(seed);
        private int _next = -1;

        public override void StartPass()
        {
            if (shuffle) _random.Shuffle(_order);
            _next = 0;
        }

        public override bool Read(TrainingRows batch, int maxRows)
        {
            ArgumentNullException.ThrowIfNull(batch);
            if (_next < 0) throw new InvalidOperationException($"Call {nameof(StartPass)} before {nameof(Read)}.");
            batch.Clear();
            int p = source.FeatureCount, t = source.TargetDimension;
            int end = Math.Min(source._count, _next + maxRows);
            for (; _next < end; _next++)
            {
                int r = _order[_next];
                if (source._rows is { } rows)
                {
                    // Rows whose targets were encoded (WithEncodedTargets) take them from the encoded array.
                    if (source._targets.IsEmpty) batch.AddRow(rows, r);
                    else batch.AddRow(rows, r, source._targets.Span.Slice(r * t, t));
                }
                else
                {
                    batch.Add(source._features.Span.Slice(r * p, p), source._targets.Span.Slice(r * t, t),
                        source.HasWeights ? source._weights.Span[r] : 1);
                }
            }
            return batch.Count > 0;
        }
    }
}
