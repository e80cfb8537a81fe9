using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// What a per-cell model can read from these maps at best, measured (<see cref="WarcraftExperiment"/>'s diagnostic): the
/// same network (8 × 8 × 3 patch → hidden ReLU) trained with cross-entropy to name each training cell's tile type (labels the
/// path methods never see), then each test cell given its predicted type's true cost. Its per-cell type accuracy and the
/// cost-optimal share of its paths bound what the path methods' per-cell networks can reach on the same data.
/// </summary>
public static class WarcraftTypeProbe
{
    /// <summary>Epochs of the classifier.</summary>
    public const int Epochs = 5;

    /// <summary>Trains the classifier on the training cells and scores the test maps.</summary>
    /// <returns>Per-cell type accuracy on the test maps, and the cost-optimal share, same-path share and cost ratio of the paths on the predicted types' costs.</returns>
    public static (double CellAccuracy, double CostOptimal, double ExactPath, double CostRatio) Run(Oracle head, float[] xTrain, int[] typesTrain,
        float[] xTest, int[] typesTest, float[] cTest, int hidden, int seed)
    {
        int k = WarcraftMaps.TypeCount, p = WarcraftMaps.CellFeatures;
        var oneHot = new float[typesTrain.Length * k];
        for (int i = 0; i < typesTrain.Length; i++) oneHot[i * k + typesTrain[i]] = 1;
        // Cross-entropy is the Fenchel-Young loss of argmax under Gumbel noise at ε = 1 (one sample suffices: closed form).
        var options = new StructuredTrainerOptions
        {
            Loss = StructuredLossKind.FenchelYoung, Noise = NoiseDistribution.Gumbel, Epsilon = 1, Samples = 1,
            HiddenLayers = [hidden], NumberOfIterations = Epochs, BatchSize = 256, LearningRate = 1e-2, Seed = seed,
        };
        IScoreModel model = StructuredTrainer.Fit(new ArgmaxOracle(k), xTrain, oneHot, p, options);
        var scores = new float[typesTest.Length * k];
        model.Score(xTest, scores);
        var costs = new float[typesTest.Length];
        int right = 0;
        for (int i = 0; i < typesTest.Length; i++)
        {
            int best = 0;
            for (int t = 1; t < k; t++) if (scores[i * k + t] > scores[i * k + best]) best = t;
            costs[i] = WarcraftMaps.TypeCosts[best];
            if (best == typesTest[i]) right++;
        }
        (double optimal, double exact, double ratio) = WarcraftExperiment.Evaluate(head, costs, cTest);
        return ((double)right / typesTest.Length, optimal, exact, ratio);
    }
}
