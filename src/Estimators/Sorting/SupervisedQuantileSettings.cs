using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>The validated settings of a SUQUAN trainer (the catalog methods' parameters, defaults there).</summary>
internal sealed record SupervisedQuantileSettings(
    string LabelColumnName,
    string FeatureColumnName,
    string NormalizedColumnName,
    int NumberOfAlternations,
    double L2Regularization,
    QuantileTarget InitialTarget,
    bool ThrowOnMissingValues)
{
    /// <summary>The normalized column's default name: "QuantileNormalized" + the features column's name.</summary>
    public static string DefaultNormalizedColumnName(string featureColumnName) => "QuantileNormalized" + featureColumnName;

    /// <summary>Checks every setting; the exception names the parameter and says what was expected.</summary>
    public void Validate()
    {
        foreach ((string value, string name) in new[]
        {
            (LabelColumnName, "labelColumnName"), (FeatureColumnName, "featureColumnName"), (NormalizedColumnName, "normalizedColumnName"),
        })
        {
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"'{name}' must be a non-empty column name.", name);
        }
        if (NormalizedColumnName == LabelColumnName)
        {
            throw new ArgumentException($"'normalizedColumnName' ('{NormalizedColumnName}') must differ from the label column.", "normalizedColumnName");
        }
        Check.AtLeast(NumberOfAlternations, 0, "numberOfAlternations");
        Check.FiniteNonNegative(L2Regularization, "l2Regularization");
        if (InitialTarget is not (QuantileTarget.Uniform or QuantileTarget.Normal or QuantileTarget.Learned))
        {
            throw new ArgumentOutOfRangeException("initialTarget", InitialTarget,
                $"'initialTarget' must be Uniform, Normal or Learned (the training mean of the sorted rows), got {InitialTarget}.");
        }
    }

    /// <summary>The core options, with the initial target for rows of <paramref name="length"/> slots (Learned: null, the training mean).</summary>
    public SupervisedQuantileOptions CoreOptions(int length) => new()
    {
        Alternations = NumberOfAlternations,
        L2Regularization = L2Regularization,
        InitialTarget = InitialTarget switch
        {
            QuantileTarget.Uniform => QuantileTargets.Uniform(length),
            QuantileTarget.Normal => QuantileTargets.Normal(length),
            QuantileTarget.Learned => null,
            _ => throw new ArgumentOutOfRangeException(nameof(InitialTarget), InitialTarget, "Unknown initial target."),
        },
    };
}
