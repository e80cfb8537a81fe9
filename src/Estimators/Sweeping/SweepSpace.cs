using System.Globalization;
using System.Reflection;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.Perturbed.Estimators.Sweeping;

/// <summary>The search space of an options class, read from its own <c>[Range]</c>/<c>[Choice]</c>/<c>[BooleanChoice]</c> attributes.</summary>
internal sealed class SweepSpace
{
    private SweepSpace(IReadOnlyList<SweepParameter> parameters) => Parameters = parameters;

    /// <summary>The swept options, in declaration order.</summary>
    public IReadOnlyList<SweepParameter> Parameters { get; }

    /// <summary>Number of dimensions.</summary>
    public int Dimension => Parameters.Count;

    /// <summary>
    /// Reads the space of <typeparamref name="TOptions"/>; <paramref name="only"/> restricts it to the named options (e.g.
    /// <c>["Epsilon"]</c>: under the defaults ε and the learning rate are one knob, see <see cref="PerturbedTrainerOptions.Epsilon"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A named option has no search-space attribute, or the class has none at all.</exception>
    public static SweepSpace From<TOptions>(IEnumerable<string>? only = null) => From(typeof(TOptions), only);

    /// <inheritdoc cref="From{TOptions}(IEnumerable{string}?)"/>
    public static SweepSpace From(Type optionsType, IEnumerable<string>? only = null)
    {
        ArgumentNullException.ThrowIfNull(optionsType);
        var parameters = new List<SweepParameter>();
        foreach (PropertyInfo p in optionsType.GetProperties(BindingFlags.Instance | BindingFlags.Public).Where(p => p.CanWrite).OrderBy(p => p.MetadataToken))
        {
            if (p.GetCustomAttribute<RangeAttribute>() is { } range)
            {
                double min = Convert.ToDouble(range.Min, CultureInfo.InvariantCulture), max = Convert.ToDouble(range.Max, CultureInfo.InvariantCulture);
                double init = range.Init is null ? (range.LogBase ? Math.Sqrt(min * max) : (min + max) / 2) : Convert.ToDouble(range.Init, CultureInfo.InvariantCulture);
                parameters.Add(new SweepParameter(p, min, max, init, range.LogBase, range.Min is int, null));
            }
            else if (p.GetCustomAttribute<ChoiceAttribute>() is { } choice)
            {
                object[] candidates = choice.Candidates;
                parameters.Add(new SweepParameter(p, 0, candidates.Length - 1, choice.DefaultValue is null ? 0 : Array.IndexOf(candidates, choice.DefaultValue), false, true, candidates));
            }
            else if (p.GetCustomAttribute<BooleanChoiceAttribute>() is { } boolean)
            {
                parameters.Add(new SweepParameter(p, 0, 1, boolean.DefaultValue ? 1 : 0, false, true, [false, true]));
            }
        }
        if (only is not null)
        {
            string[] names = only.ToArray();
            foreach (string name in names)
            {
                if (!parameters.Any(p => p.Name == name))
                {
                    throw new ArgumentException($"'{name}' is not a swept option of {optionsType.Name}; swept options: {string.Join(", ", parameters.Select(p => p.Name))}.", nameof(only));
                }
            }
            parameters = parameters.Where(p => names.Contains(p.Name)).ToList();
        }
        if (parameters.Count == 0) throw new ArgumentException($"{optionsType.Name} has no option with a [Range], [Choice] or [BooleanChoice] attribute.", nameof(optionsType));
        return new SweepSpace(parameters);
    }

    /// <summary>The unit coordinates of the attributes' initial values.</summary>
    public double[] DefaultPoint() => Parameters.Select(p => Math.Clamp(p.Choices is null ? p.UnitOf(p.Default) : (p.Default + 0.5) / p.Choices.Count, 0, 1)).ToArray();

    /// <summary>The option values at a unit point.</summary>
    public IReadOnlyDictionary<string, object> ValuesAt(IReadOnlyList<double> point) =>
        Parameters.Select((p, i) => (p.Name, Value: p.ValueAt(point[i]))).ToDictionary(e => e.Name, e => e.Value);

    /// <summary>Sets the options at a unit point.</summary>
    public void Apply(object options, IReadOnlyList<double> point)
    {
        ArgumentNullException.ThrowIfNull(options);
        for (int i = 0; i < Parameters.Count; i++) Parameters[i].Property.SetValue(options, Parameters[i].ValueAt(point[i]));
    }
}
