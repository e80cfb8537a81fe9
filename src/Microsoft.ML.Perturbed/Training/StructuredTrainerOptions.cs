using Microsoft.ML.Perturbed.Noise;

namespace Microsoft.ML.Perturbed.Training;

/// <summary>Settings of <see cref="StructuredTrainer"/>; checked when training starts.</summary>
public sealed class StructuredTrainerOptions
{
    /// <summary>The loss; default the perturbed Fenchel-Young loss.</summary>
    public StructuredLossKind Loss { get; set; } = StructuredLossKind.FenchelYoung;

    /// <summary>Noise scale ε &gt; 0 of the perturbed losses. Default 1.</summary>
    public double Epsilon { get; set; } = 1.0;

    /// <summary>
    /// Noise samples M per row and step. Default 10: M = 1 already gives an unbiased Fenchel-Young gradient, more samples
    /// lower its variance at proportional cost.
    /// </summary>
    public int Samples { get; set; } = 10;

    /// <summary>Noise law; default normal.</summary>
    public NoiseDistribution Noise { get; set; } = NoiseDistribution.Normal;

    /// <summary>Blackbox loss: interpolation step λ.</summary>
    public double BlackboxLambda { get; set; } = 1.0;

    /// <summary>The parameter update; default Adam.</summary>
    public GradientOptimizerKind Optimizer { get; set; } = GradientOptimizerKind.Adam;

    /// <summary>Learning rate η &gt; 0; default 0.01.</summary>
    public double LearningRate { get; set; } = 0.01;

    /// <summary>Passes over the data; default 50.</summary>
    public int Epochs { get; set; } = 50;

    /// <summary>Rows per mini-batch; default 32.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>L2 regularization λ ≥ 0 on the weights (not the bias): adds λ·W to the gradient. Default 0.</summary>
    public double L2 { get; set; }

    /// <summary>Seed of the row shuffles and of the noise; the same seed gives the same model, bit for bit.</summary>
    public int Seed { get; set; }

    /// <summary>With a validation set: stop after this many epochs without improvement and keep the best model. Default 5.</summary>
    public int EarlyStoppingPatience { get; set; } = 5;

    /// <summary>Most threads per step; −1 (default) uses every core. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; set; } = -1;
}
