using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// The digit-sorting experiment's reference: a digit classifier trained on the digit labels (what the sorting layers never
/// see), with the same hidden layer as their digit network (64 → 64 ReLU → 10, cross-entropy = the Fenchel-Young loss under
/// Gumbel noise at ε = 1, Adam lr 1e-2, batch 32), which reads each number digit by digit; sorting the numbers read bounds
/// what reading the 8 × 8 digits allows, and so separates the images' difficulty from the sorting layers'.
/// </summary>
public static class DigitReader
{
    private const int Pixels = 64, Classes = 10, Places = 4;

    /// <summary>Trains the classifier on the images of <paramref name="pool"/>.</summary>
    public static IScoreModel Train(float[] images, int[] digits, int[] pool, int epochs, int seed)
    {
        var x = new float[pool.Length * Pixels];
        var y = new float[pool.Length * Classes];
        for (int i = 0; i < pool.Length; i++)
        {
            images.AsSpan(pool[i] * Pixels, Pixels).CopyTo(x.AsSpan(i * Pixels));
            y[i * Classes + digits[pool[i]]] = 1;
        }
        var options = new StructuredTrainerOptions
        {
            Loss = StructuredLossKind.FenchelYoung, Noise = NoiseDistribution.Gumbel, Samples = 1, Epsilon = 1, HiddenLayers = [64],
            NumberOfIterations = epochs, LearningRate = 1e-2, BatchSize = 32, Seed = seed,
        };
        return StructuredTrainer.Fit(new ArgmaxOracle(Classes), TrainingSource.FromArrays(x, y, Pixels, Classes), options);
    }

    /// <summary>The classifier's accuracy on the images of <paramref name="pool"/>.</summary>
    public static double Accuracy(IScoreModel reader, float[] images, int[] digits, int[] pool)
    {
        float[] x = pool.SelectMany(i => images.AsSpan(i * Pixels, Pixels).ToArray()).ToArray();
        int[] read = Read(reader, x);
        return Enumerable.Range(0, pool.Length).Count(i => read[i] == digits[pool[i]]) / (double)pool.Length;
    }

    /// <summary>The values of numbers of four images each (<c>[count × 256]</c>) as read digit by digit, most significant first.</summary>
    public static float[] Values(IScoreModel reader, float[] numbers)
    {
        int[] read = Read(reader, numbers);   // [count·4] images, the same memory
        var values = new float[read.Length / Places];
        for (int q = 0; q < values.Length; q++)
        {
            int v = 0;
            for (int d = 0; d < Places; d++) v = 10 * v + read[q * Places + d];
            values[q] = v;
        }
        return values;
    }

    /// <summary>The argmax class of each 64-pixel image (ties to the lower class, as the argmax oracle).</summary>
    private static int[] Read(IScoreModel reader, float[] images)
    {
        int count = images.Length / Pixels;
        var scores = new float[count * Classes];
        reader.Score(images, scores);
        var read = new int[count];
        for (int i = 0; i < count; i++)
        {
            int best = 0;
            for (int c = 1; c < Classes; c++) if (scores[i * Classes + c] > scores[i * Classes + best]) best = c;
            read[i] = best;
        }
        return read;
    }
}
