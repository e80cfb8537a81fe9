namespace Microsoft.ML.Perturbed;

/// <summary>The one check of option values: the exception names the option (its ParamName) and says what was expected.</summary>
internal static class Check
{
    public static void FinitePositive(double value, string name)
    {
        if (!(value > 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be a finite number greater than 0, got {value}.");
    }

    public static void FiniteNonNegative(double value, string name)
    {
        if (!(value >= 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be a finite number ≥ 0, got {value}.");
    }

    public static void AtLeast(int value, int min, string name)
    {
        if (value < min) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be at least {min}, got {value}.");
    }

    public static void AtMost(int value, int max, string name)
    {
        if (value > max) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be at most {max}, got {value}.");
    }

    public static void Defined<T>(T value, string name) where T : struct, Enum
    {
        if (!Enum.IsDefined(value)) throw new ArgumentOutOfRangeException(name, value, $"Unknown {typeof(T).Name} value {value} for '{name}'.");
    }

    public static void InRange(double value, double min, double max, string name)
    {
        if (!(value >= min && value <= max)) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be in [{min}, {max}], got {value}.");
    }

    public static void Parallelism(int value, string name)
    {
        if (value == 0 || value < -1) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be −1 (all cores) or at least 1, got {value}.");
    }
}
