namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>Solves one row: writes argmax_{y∈C} ⟨y, θ⟩ for the scores <paramref name="theta"/> into <paramref name="solution"/>.</summary>
/// <param name="theta">Scores of one row (length <see cref="Oracle.Dimension"/>); finite.</param>
/// <param name="solution">Destination (length <see cref="Oracle.OutputDimension"/>); every entry must be written.</param>
public delegate void OracleFunction(ReadOnlySpan<float> theta, Span<float> solution);
