namespace Microsoft.ML.Perturbed.Training;

/// <summary>
/// A score model that scores a sparse feature row from its stored values alone (docs/architecture.md, "Sparse training"),
/// so that a 10⁶-slot text or hashing row costs its non-zeros, not its width. <see cref="AffineModel"/> and
/// <see cref="MlpModel"/> (through their first layer) implement it.
/// </summary>
internal interface ISparseScoreModel : IScoreModel
{
    /// <summary>Scores one row whose slots <paramref name="indices"/> (ascending, distinct, &lt; <c>Features</c>) hold <paramref name="values"/> and every other slot 0.</summary>
    /// <param name="indices">The row's stored slots.</param>
    /// <param name="values">Their values.</param>
    /// <param name="scores">The d scores.</param>
    void ScoreSparse(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, Span<float> scores);
}
