using System.Globalization;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// Label-ranking training throughput on elevators (16,599 rows, 9 features, 9 labels; ../shared/data, or random data of
/// the same shape when absent): one epoch of the core trainer, batch 32, Adam. Rows/s = 16,599 / mean time.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class TrainingThroughputBenchmarks
{
    private float[] _x = null!, _y = null!;
    private int _p, _d;

    [Params(StructuredLossKind.FenchelYoung, StructuredLossKind.PerturbedSquared, StructuredLossKind.SquaredScores)]
    public StructuredLossKind Loss { get; set; }

    [Params(1, 10)]
    public int M { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string? path = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null && path is null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", "label_ranking", "elevators.csv");
            if (File.Exists(candidate)) path = candidate;
        }
        if (path is null)
        {
            (_p, _d) = (9, 9);
            _x = Heads.Scores(16_599, _p);
            _y = new float[16_599 * _d];
            new RankingOracle(_d).Solve(Heads.Scores(16_599, _d, seed: 2), _y);
            return;
        }
        string[] lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        string[] header = lines[0].Split(',');
        _p = header.Count(h => h.StartsWith('A'));
        _d = header.Count(h => h.StartsWith('L'));
        _x = new float[(lines.Length - 1) * _p];
        _y = new float[(lines.Length - 1) * _d];
        for (int r = 1; r < lines.Length; r++)
        {
            string[] f = lines[r].Split(',');
            for (int j = 0; j < _p; j++) _x[(r - 1) * _p + j] = float.Parse(f[j], CultureInfo.InvariantCulture);
            for (int k = 0; k < _d; k++) _y[(r - 1) * _d + k] = _d + 1 - float.Parse(f[_p + k], CultureInfo.InvariantCulture);
        }
    }

    [Benchmark(Description = "One epoch (16,599 rows)")]
    public AffineModel Epoch() => StructuredTrainer.Train(new RankingOracle(_d), _x, _y, _p,
        new StructuredTrainerOptions { Loss = Loss, Samples = M, NumberOfIterations = 1, BatchSize = 32, Seed = 1 });
}
