using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Data;

/// <summary>Small sparse classification data and a stream over rows made on the fly, shared by the data-path tests.</summary>
internal static class SparseData
{
    /// <summary>n rows of p features with about <paramref name="perRow"/> non-zeros each; the class is the argmax of a hidden linear map.</summary>
    public static (float[] X, float[] Y) Make(int n, int p, int d, int perRow, int seed)
    {
        var random = new System.Random(seed);
        var w = new float[d * p];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(random.NextDouble() * 2 - 1);
        var x = new float[n * p];
        var y = new float[n * d];
        var theta = new float[d];
        for (int r = 0; r < n; r++)
        {
            for (int k = 0; k < perRow; k++) x[r * p + (perRow >= p ? k % p : random.Next(p))] = (float)(random.NextDouble() + 0.5);
            new AffineModel(w, new float[d]).Score(x.AsSpan(r * p, p), theta);
            y[r * d + theta.AsSpan().IndexOf(theta.AsSpan().ToArray().Max())] = 1;
        }
        return (x, y);
    }

    /// <summary>The same rows as a sparse in-memory block.</summary>
    public static TrainingRows Sparse(float[] x, float[] y, int p, int d, float[]? weights = null)
    {
        var rows = new TrainingRows(p, d, isSparse: true, hasWeights: weights is not null);
        for (int r = 0; r < y.Length / d; r++) rows.Add(x.AsSpan(r * p, p), y.AsSpan(r * d, d), weights?[r] ?? 1);
        return rows;
    }

    public static float[] Weights(IScoreModel model) => ((AffineModel)model).Weights.ToArray();

    public static double MaxRelativeDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double scale = 0, worst = 0;
        for (int i = 0; i < a.Length; i++) scale = Math.Max(scale, Math.Abs(a[i]));
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst / scale;
    }

    /// <summary>
    /// A stream of rows generated on the fly (row r from its own seed): its rows are never stored, so whatever memory a
    /// training run holds is the reader's.
    /// </summary>
    public sealed class GeneratedStream(int rows, int p, int d, bool sparse, int perRow = 8) : RowStream
    {
        public int Rows => rows;

        public int PerRow => perRow;

        public int Passes { get; set; }

        /// <summary>Rows to drop on passes after the first (a source that changes between passes).</summary>
        public int DropOnLaterPasses { get; init; }

        /// <summary>Called at the end of every pass (e.g. to measure memory).</summary>
        public Action? AtEndOfPass { get; init; }

        public override int FeatureCount => p;

        public override int TargetDimension => d;

        public override bool IsSparse => sparse;

        public override bool HasWeights => false;

        public override RowStreamCursor OpenPass() => new Cursor(this);

        /// <summary>Row r's sparse entries and class.</summary>
        public static void Row(int r, int p, int d, int[] indices, float[] values, float[] target)
        {
            var random = new System.Random(r * 7919 + 13);
            var slots = new SortedSet<int>();
            while (slots.Count < indices.Length) slots.Add(random.Next(p));
            slots.CopyTo(indices);
            for (int i = 0; i < indices.Length; i++) values[i] = (float)(random.NextDouble() + 0.5);
            Array.Clear(target);
            target[indices[0] % d] = 1;
        }
    }

    private sealed class Cursor : RowStreamCursor
    {
        private readonly GeneratedStream _s;
        private readonly int[] _indices;
        private readonly float[] _values, _target, _dense;
        private readonly int _limit;
        private int _next;

        public Cursor(GeneratedStream s)
        {
            _s = s;
            _indices = new int[s.PerRow];
            _values = new float[s.PerRow];
            _target = new float[s.TargetDimension];
            _dense = new float[s.FeatureCount];
            _limit = s.Passes++ == 0 ? s.Rows : s.Rows - s.DropOnLaterPasses;
        }

        public override bool ReadRow(TrainingRows destination)
        {
            if (_next >= _limit)
            {
                _s.AtEndOfPass?.Invoke();
                return false;
            }
            GeneratedStream.Row(_next++, _s.FeatureCount, _s.TargetDimension, _indices, _values, _target);
            if (_s.IsSparse)
            {
                destination.Add(_indices, _values, _target);
            }
            else
            {
                Array.Clear(_dense);
                for (int i = 0; i < _indices.Length; i++) _dense[_indices[i]] = _values[i];
                destination.Add(_dense, _target);
            }
            return true;
        }
    }
}
