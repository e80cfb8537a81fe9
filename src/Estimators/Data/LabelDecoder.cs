namespace Microsoft.ML.Perturbed.Estimators.Data;

/// <summary>Fills one row of targets from the label of the cursor's current row (throwing on a bad label).</summary>
internal delegate void LabelDecoder(Span<float> target, long row);
