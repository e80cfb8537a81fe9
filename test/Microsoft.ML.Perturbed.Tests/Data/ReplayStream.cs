using Microsoft.ML.Perturbed.Data;

namespace Microsoft.ML.Perturbed.Tests.Data;

/// <summary>A stream over a block of rows held in memory, in order (the tests' stand-in for a user's stream).</summary>
internal sealed class ReplayStream(TrainingRows rows) : RowStream
{
    public override int FeatureCount => rows.FeatureCount;

    public override int TargetDimension => rows.TargetDimension;

    public override bool IsSparse => rows.IsSparse;

    public override bool HasWeights => rows.HasWeights;

    public override RowStreamCursor OpenPass() => new Cursor(rows);

    private sealed class Cursor(TrainingRows rows) : RowStreamCursor
    {
        private int _next;

        public override bool ReadRow(TrainingRows destination)
        {
            if (_next >= rows.Count) return false;
            destination.AddRow(rows, _next++);
            return true;
        }
    }
}
