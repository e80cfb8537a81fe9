namespace Microsoft.ML.Perturbed.Estimators.Sweeping;

/// <summary>
/// Proposes points of the unit cube [0, 1]^d to evaluate and learns from their scores (higher is better). Deterministic
/// for a seed: the proposals depend only on the scores reported, never on timing or on how many trials run at once.
/// </summary>
internal interface ISweepTuner
{
    /// <summary>A short name for tables.</summary>
    string Name { get; }

    /// <summary>Whether the tuner has nothing left to propose (a finished grid).</summary>
    bool IsExhausted { get; }

    /// <summary>The next batch of points to evaluate (at most <paramref name="count"/>; the tuner fixes its own batch size).</summary>
    IReadOnlyList<double[]> Propose(int count);

    /// <summary>Reports the score of a proposed point.</summary>
    void Report(double[] point, double score);
}
