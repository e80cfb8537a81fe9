namespace Microsoft.ML.Perturbed.Estimators.Data;

/// <summary>
/// A missing value (NaN or ±∞ in a Single column, a key of 0) where a value was needed. Training skips such rows unless
/// <c>ThrowOnMissingValues</c> is set, as ML.NET's trainers skip rows with missing features, labels or weights; every
/// other caller sees an ordinary <see cref="InvalidOperationException"/>.
/// </summary>
internal sealed class MissingValueException(string message) : InvalidOperationException(message);
