using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// Where a digit-sorting model's errors come from, read off its <see cref="PlaceValueModel"/> (s = Σ_d a_d f(image_d)): how
/// well the digit network f orders digits, how the numbers sort when f is kept but the learned place weights are replaced by
/// exact place values, and the learned place weights themselves. The digit labels are used here only, never in training.
/// </summary>
public static class DigitDiagnostics
{
    private const int Pixels = 64, Places = 4, Classes = 10;

    /// <summary>
    /// The share of pairs of <paramref name="pool"/>'s images of different digits that f, signed by the leading place weight,
    /// orders as their digits; NaN for another model.
    /// </summary>
    public static double Concordance(IScoreModel model, float[] images, int[] digits, int[] pool)
    {
        if (model is not ItemwiseModel { Item: PlaceValueModel place }) return double.NaN;
        float[] f = place.DigitScores(Gather(images, pool));
        float sign = place.PlaceWeights[0] >= 0 ? 1 : -1;
        long agree = 0, pairs = 0;
        for (int a = 0; a < pool.Length; a++)
        {
            for (int b = a + 1; b < pool.Length; b++)
            {
                int dd = digits[pool[a]] - digits[pool[b]];
                if (dd == 0) continue;
                pairs++;
                if (Math.Sign(dd) == Math.Sign(sign * (f[a] - f[b]))) agree++;
            }
        }
        return (double)agree / pairs;
    }

    /// <summary>
    /// Exact and partial precision when each image is read as the digit whose mean f over the training images (<paramref name="trainPool"/>)
    /// is nearest its f, and the numbers read with the exact place values 1000, 100, 10, 1 are sorted: f's digit knowledge
    /// without the learned place weights. NaN for another model.
    /// </summary>
    public static (double Exact, double Partial) WithExactPlaces(IScoreModel model, float[] images, int[] digits, int[] trainPool,
        float[] numbers, float[] ranks, int n)
    {
        if (model is not ItemwiseModel { Item: PlaceValueModel place }) return (double.NaN, double.NaN);
        float[] fTrain = place.DigitScores(Gather(images, trainPool));
        var sum = new double[Classes];
        var count = new int[Classes];
        for (int i = 0; i < trainPool.Length; i++)
        {
            sum[digits[trainPool[i]]] += fTrain[i];
            count[digits[trainPool[i]]]++;
        }
        double[] mean = Enumerable.Range(0, Classes).Select(c => count[c] > 0 ? sum[c] / count[c] : double.NaN).ToArray();
        float[] f = place.DigitScores(numbers);   // [numbers·4] images, the same memory
        var values = new float[f.Length / Places];
        for (int q = 0; q < values.Length; q++)
        {
            int v = 0;
            for (int d = 0; d < Places; d++)
            {
                double x = f[q * Places + d];
                int best = 0;
                for (int c = 1; c < Classes; c++) if (Math.Abs(x - mean[c]) < Math.Abs(x - mean[best])) best = c;
                v = 10 * v + best;
            }
            values[q] = v;
        }
        return DigitSortingExperiment.PrecisionOfScores(values, n, ranks);
    }

    /// <summary>The learned place weights relative to the leading one, "a₁/a₀ : a₂/a₀ : a₃/a₀"; empty for another model.</summary>
    public static string PlaceRatios(IScoreModel model)
    {
        if (model is not ItemwiseModel { Item: PlaceValueModel place }) return "";
        return string.Join(" : ", Enumerable.Range(1, Places - 1).Select(d => $"{place.PlaceWeights[d] / place.PlaceWeights[0]:F3}"));
    }

    private static float[] Gather(float[] images, int[] pool) => pool.SelectMany(i => images.AsSpan(i * Pixels, Pixels).ToArray()).ToArray();
}
