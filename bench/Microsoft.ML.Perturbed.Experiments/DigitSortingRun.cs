namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// One run of the digit-sorting experiment: a sorting layer at a sequence length and seed, its test precisions, the same
/// precisions on its training sequences, and the digit concordance of its learned digit network (the share of pairs of
/// test images of different digits that the network, signed by the leading place weight, orders as their digits; for the
/// reference, its test digit accuracy), the test precisions with exact place values (<see cref="DigitDiagnostics.WithExactPlaces"/>)
/// and the learned place-weight ratios.
/// </summary>
public sealed record DigitSortingRun(string Method, int Length, int Seed, double Exact, double Partial, double Seconds,
    double TrainExact = double.NaN, double TrainPartial = double.NaN, double DigitConcordance = double.NaN,
    double PlacedExact = double.NaN, double PlacedPartial = double.NaN, string PlaceRatios = "");
