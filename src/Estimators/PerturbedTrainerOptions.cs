using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Training;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.Perturbed.Estimators;

/// <summary>
/// Options shared by the perturbed trainers (label ranking, multiclass, top-k, matching). The hyper-parameters a sweep
/// tunes (ε, learning rate, L2, M) are properties with <c>Microsoft.ML.SearchSpace</c> ranges — ε, the learning rate and
/// M on a log scale — so AutoML can sweep them where it is installed.
/// </summary>
public abstract class PerturbedTrainerOptions
{
    /// <summary>Label column.</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>Features column: a known-size vector of Single.</summary>
    public string FeatureColumnName { get; set; } = "Features";

    /// <summary>The loss; default perturbed Fenchel-Young.</summary>
    public StructuredLossKind Loss { get; set; } = StructuredLossKind.FenchelYoung;

    /// <summary>Noise scale ε &gt; 0; default 1.</summary>
    [Range(1e-3, 10.0, 1.0, true)]
    public double Epsilon { get; set; } = 1.0;

    /// <summary>Noise samples M per row and step; default 10 (M = 1 already gives an unbiased Fenchel-Young gradient).</summary>
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

    /// <summary>Passes over the data.</summary>
    public int Epochs { get; set; } = 30;

    /// <summary>Rows per mini-batch; default 32.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Blackbox loss: interpolation step λ.</summary>
    public double BlackboxLambda { get; set; } = 1.0;

    /// <summary>With validation data: epochs without improvement before stopping (the best model is kept).</summary>
    public int EarlyStoppingPatience { get; set; } = 5;

    /// <summary>Seed; null (default) uses the MLContext's random source, so <c>new MLContext(seed: …)</c> makes training repeatable.</summary>
    public int? Seed { get; set; }

    /// <summary>
    /// Where training runs: null (default) for the managed CPU trainer of an affine model, or another backend such as
    /// <c>TorchTrainingBackend</c> (Microsoft.ML.Perturbed.TorchSharp: GPU, MLP score models). Models score in managed
    /// code either way. Not saved with the model.
    /// </summary>
    public IStructuredTrainingBackend? Backend { get; set; }

    /// <summary>The noise law of the perturbation (normal unless a trainer says otherwise).</summary>
    private protected virtual NoiseDistribution NoiseLaw => NoiseDistribution.Normal;

    /// <summary>The core trainer's settings for these options and a resolved seed.</summary>
    internal IStructuredTrainingBackend TrainingBackend => Backend ?? CpuTrainingBackend.Instance;

    internal StructuredTrainerOptions ToTrainerOptions(int seed) => new()
    {
        Loss = Loss, Noise = NoiseLaw, Epsilon = Epsilon, Samples = Samples, LearningRate = LearningRate, L2 = L2,
        Optimizer = Optimizer, Epochs = Epochs, BatchSize = BatchSize, BlackboxLambda = BlackboxLambda,
        EarlyStoppingPatience = EarlyStoppingPatience, Seed = seed,
    };
}
