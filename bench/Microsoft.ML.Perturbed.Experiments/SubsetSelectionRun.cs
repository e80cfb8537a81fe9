namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// One run of the subset-selection experiment: a top-k layer at a subset size and seed, its test precision and test MSE (hard
/// top-k mask), and the test MSE with the layer's own forward mask, the form the predictor was trained on (the mean of the
/// samples for the perturbed and I-MLE layers; the hard mask for identity and the reference).
/// </summary>
public sealed record SubsetSelectionRun(string Method, int K, int Seed, double Precision, double TestMse, double Seconds, double LayerMaskMse);
