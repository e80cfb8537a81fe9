namespace Microsoft.ML.Perturbed.Estimators.Sweeping;

/// <summary>One evaluated trial.</summary>
/// <param name="Index">0-based order of proposal.</param>
/// <param name="Parameters">The swept options' values.</param>
/// <param name="Mean">Mean metric over the folds.</param>
/// <param name="StandardDeviation">Standard deviation over the folds (0 with one split).</param>
/// <param name="Duration">Wall time of the trial.</param>
public sealed record SweepTrial(int Index, IReadOnlyDictionary<string, object> Parameters, double Mean, double StandardDeviation, TimeSpan Duration)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"#{Index}: {PerturbedSweep.Describe(Parameters)} → {Mean:G4} ± {StandardDeviation:G2} ({Duration.TotalSeconds:F1} s)");
}
