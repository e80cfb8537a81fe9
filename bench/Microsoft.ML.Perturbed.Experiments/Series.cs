namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>One line of a figure: its points, optional ± errors (std over seeds or folds) and the published values at the same x (NaN where none).</summary>
public sealed record Series(string Label, double[] X, double[] Y, double[]? Error = null, double[]? Published = null);
