using System.Globalization;
using System.Reflection;

namespace Microsoft.ML.Perturbed.Estimators.Sweeping;

/// <summary>
/// One swept option: a public settable property of an options class with a <c>[Range]</c>, <c>[Choice]</c> or
/// <c>[BooleanChoice]</c> attribute (Microsoft.ML.SearchSpace, the attributes AutoML reads), mapped to the unit interval:
/// u ∈ [0, 1] ↦ a value, linearly or on a log scale.
/// </summary>
internal sealed class SweepParameter
{
    internal SweepParameter(PropertyInfo property, double min, double max, double init, bool log, bool integer, object[]? choices)
    {
        Property = property;
        Min = min;
        Max = max;
        Default = init;
        Log = log;
        Integer = integer;
        Choices = choices;
    }

    /// <summary>The option's name.</summary>
    public string Name => Property.Name;

    /// <summary>The property it sets.</summary>
    public PropertyInfo Property { get; }

    /// <summary>Lower end of a range (0 for choices).</summary>
    public double Min { get; }

    /// <summary>Upper end of a range (count − 1 for choices).</summary>
    public double Max { get; }

    /// <summary>The attribute's initial value (its index for choices).</summary>
    public double Default { get; }

    /// <summary>Whether the range is swept on a log scale.</summary>
    public bool Log { get; }

    /// <summary>Whether values are whole numbers.</summary>
    public bool Integer { get; }

    /// <summary>The candidates of a choice (null for a range).</summary>
    public IReadOnlyList<object>? Choices { get; }

    /// <summary>Significant digits a value of a log-scale range keeps (3): the precision a sweep tells apart.</summary>
    public const int SignificantDigits = 3;

    /// <summary>Parts of a linear range whose width is the rounding step of its values (1000).</summary>
    public const int LinearResolution = 1000;

    /// <summary>
    /// The value at u ∈ [0, 1] (clamped), in the property's type, at the precision of the space: whole numbers for an
    /// integer range, <see cref="SignificantDigits"/> significant digits on a log scale, steps of
    /// (<see cref="Max"/> − <see cref="Min"/>) / <see cref="LinearResolution"/> (to a power of ten) on a linear one — so
    /// ε is 10, not 9.999999999999993, and two points that differ by less are the same trial.
    /// </summary>
    public object ValueAt(double u)
    {
        u = Math.Clamp(u, 0, 1);
        if (Choices is { } choices) return choices[Math.Min(choices.Count - 1, (int)Math.Floor(u * choices.Count))];
        double value = Log ? Math.Exp(Math.Log(Min) + u * (Math.Log(Max) - Math.Log(Min))) : Min + u * (Max - Min);
        value = Integer ? Math.Round(value) : Round(value);
        Type type = Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType;
        return Convert.ChangeType(Math.Clamp(value, Min, Max), type, CultureInfo.InvariantCulture);
    }

    private double Round(double value)
    {
        if (value == 0 || !double.IsFinite(value)) return value;
        int decimals = Log
            ? SignificantDigits - 1 - (int)Math.Floor(Math.Log10(Math.Abs(value)))
            : Max > Min ? -(int)Math.Floor(Math.Log10((Max - Min) / LinearResolution)) : 15;
        // Rounding to a negative number of decimals is rounding to tens, hundreds, ….
        if (decimals >= 0) return Math.Round(value, Math.Min(decimals, 15));
        double scale = Math.Pow(10, -decimals);
        return Math.Round(value / scale) * scale;
    }

    /// <summary>The unit coordinate of <paramref name="value"/>.</summary>
    public double UnitOf(double value)
    {
        if (Choices is not null || Max == Min) return Max == Min ? 0.5 : value / Max;
        return Log ? (Math.Log(value) - Math.Log(Min)) / (Math.Log(Max) - Math.Log(Min)) : (value - Min) / (Max - Min);
    }

    /// <inheritdoc/>
    public override string ToString() => Choices is { } c ? $"{Name} ∈ {{{string.Join(", ", c)}}}" : $"{Name} ∈ [{Min}, {Max}]{(Log ? " (log)" : "")}";
}
