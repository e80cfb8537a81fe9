namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>One cell of a regret grid (<see cref="RegretExperiment"/>): a method's normalized test regret over the seeds.</summary>
public sealed record RegretCell(string Method, int Train, int Degree, double Noise, double Mean, double Std, double Seconds);
