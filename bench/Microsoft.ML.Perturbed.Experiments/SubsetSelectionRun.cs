namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>One run of the subset-selection experiment: a top-k layer at a subset size and seed, its test precision and test MSE.</summary>
public sealed record SubsetSelectionRun(string Method, int K, int Seed, double Precision, double TestMse, double Seconds);
