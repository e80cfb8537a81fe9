namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>One run of the digit-sorting experiment: a sorting layer at a sequence length and seed, and its test precisions.</summary>
public sealed record DigitSortingRun(string Method, int Length, int Seed, double Exact, double Partial, double Seconds);
