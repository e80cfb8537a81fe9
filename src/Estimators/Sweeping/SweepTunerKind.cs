namespace Microsoft.ML.Perturbed.Estimators.Sweeping;

/// <summary>The tuners of <see cref="PerturbedSweep"/>.</summary>
public enum SweepTunerKind
{
    /// <summary>Cost-frugal randomized local search from the defaults (FLOW2, the search of AutoML's CFO); the default.</summary>
    CostFrugal = 0,

    /// <summary>Uniform random points (seeded).</summary>
    Random = 1,

    /// <summary>The full grid (5 levels per range, every choice), in a fixed order.</summary>
    Grid = 2,
}
