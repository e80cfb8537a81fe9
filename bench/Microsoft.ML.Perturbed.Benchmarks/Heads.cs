using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Random;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>Builds the benchmarked heads and their inputs, shared by the benchmark classes and the quick probe.</summary>
public static class Heads
{
    public static Oracle Create(string head, int d) => head switch
    {
        "Argmax" => new ArgmaxOracle(d),
        "TopK10" => new TopKOracle(d, 10),
        "Ranking" => new RankingOracle(d),
        "Matching" => new MatchingOracle((int)Math.Round(Math.Sqrt(d))),
        _ => throw new ArgumentException($"Unknown head '{head}'.", nameof(head)),
    };

    public static float[] Scores(int batch, int d, int seed = 1)
    {
        var theta = new float[batch * d];
        var s = PhiloxStream.ForSample(seed, 1000, 0, 0);
        NoiseDistribution.Normal.Sample(ref s, theta);
        return theta;
    }

    /// <summary>The M noisy copies θ + εZₘ of the whole batch, drawn up front: the input of the bare-solve baseline.</summary>
    public static float[][] NoisyCopies(float[] theta, int samples, double epsilon)
    {
        var copies = new float[samples][];
        for (int m = 0; m < samples; m++)
        {
            copies[m] = new float[theta.Length];
            var s = PhiloxStream.ForSample(7, 0, 0, m);
            NoiseDistribution.Normal.Sample(ref s, copies[m]);
            for (int i = 0; i < theta.Length; i++) copies[m][i] = theta[i] + (float)epsilon * copies[m][i];
        }
        return copies;
    }
}
