namespace Microsoft.ML.Perturbed.Training;

/// <summary>A score model θ = g(x): batches of feature rows to batches of scores, in plain managed code.</summary>
public interface IScoreModel
{
    /// <summary>Number p of features.</summary>
    int Features { get; }

    /// <summary>Number d of scores.</summary>
    int Outputs { get; }

    /// <summary>Scores θ for a batch of feature rows (<c>[batch × p]</c> → <c>[batch × d]</c>).</summary>
    void Score(ReadOnlySpan<float> features, Span<float> scores);
}
