using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>Options of the top-k and matching trainers (sweepable hyper-parameters are properties with ranges).</summary>
public sealed class PerturbedStructuredOptions
{
    /// <summary>Label column: 0/1 vectors (k ones for top-k; an n×n permutation matrix, row-major, for matching).</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>Features column: a known-size vector of Single.</summary>
    public string FeatureColumnName { get; set; } = "Features";

    /// <summary>The loss; default perturbed Fenchel-Young.</summary>
    public StructuredLossKind Loss { get; set; } = StructuredLossKind.FenchelYoung;

    /// <summary>Noise scale ε &gt; 0; default 1.</summary>
    [Range(1e-3, 10.0, 1.0, true)]
    public double Epsilon { get; set; } = 1.0;

    /// <summary>Noise samples M per row and step; default 10.</summary>
    [Range(1, 100, 10, true)]
    public int Samples { get; set; } = 10;

    /// <summary>Learning rate; default 0.01.</summary>
    [Range(1e-4, 1.0, 1e-2, true)]
    public double LearningRate { get; set; } = 0.01;

    /// <summary>L2 regularization of the weights; default 0.</summary>
    [Range(0.0, 1.0, 0.0, false)]
    public double L2 { get; set; }

    /// <summary>SGD or Adam (default).</summary>
    public GradientOptimizerKind Optimizer { get; set; } = GradientOptimizerKind.Adam;

    /// <summary>Passes over the data; default 30.</summary>
    public int Epochs { get; set; } = 30;

    /// <summary>Rows per mini-batch; default 32.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Blackbox loss: interpolation step λ.</summary>
    public double BlackboxLambda { get; set; } = 1.0;

    /// <summary>Seed; null (default) uses the MLContext's random source.</summary>
    public int? Seed { get; set; }
}
