// The papers' experiments, one subcommand each; tables (markdown) and figures (PNG) go to bench/results/experiments.
//   dotnet run -c Release --project bench/Microsoft.ML.Perturbed.Experiments -- <shortestpath|syntheticranking> [--quick] [--out DIR]
using System.Globalization;
using Microsoft.ML.Perturbed.Experiments;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 0)
{
    Console.WriteLine("Usage: Experiments <shortestpath|syntheticranking> [--quick] [--out DIR]");
    return 2;
}
bool quick = args.Contains("--quick");
int outAt = Array.IndexOf(args, "--out");
string outDir = outAt >= 0 && outAt + 1 < args.Length ? args[outAt + 1] : Path.Combine("bench", "results", "experiments");
return args[0] switch
{
    "shortestpath" => ShortestPathExperiment.Run(quick, outDir, Console.Out) is null ? 1 : 0,
    "syntheticranking" => SyntheticRankingExperiment.Run(quick, outDir, Console.Out).Count > 0 ? 0 : 1,
    string other => Unknown(other),
};

static int Unknown(string name)
{
    Console.Error.WriteLine($"Unknown experiment '{name}'. Experiments: shortestpath, syntheticranking.");
    return 2;
}
