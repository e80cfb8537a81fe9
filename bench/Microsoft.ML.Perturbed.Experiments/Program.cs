// The papers' experiments, one subcommand each; tables (markdown) and figures (PNG) go to bench/results/experiments.
//   dotnet run -c Release --project bench/Microsoft.ML.Perturbed.Experiments -- <shortestpath|knapsack|sortingmatching|syntheticranking|classification|classificationsweep|labelranking|suquan|sinkhornimplicit|softtopk|leastquantile|warcraft|globetsp|labelrankingtable2|digitsorting|subsetselection> [--quick] [--out DIR] [--data PATH] [--lengths 5,10 --repetitions N[,N…] --epochs N --methods dlm0,dlm1,dsl,dslpos,fy,gs (sortingmatching)] [--epochs N --train N --seeds N --sigmas a,b --reductions N --plateau N (syntheticranking)] [--train N --test N --epochs N --seeds N --sizes 12,18 --hidden N --lr X --methods fy,blackbox,identity,spo,squared (warcraft)] [--seeds N --epochs N --train N (globetsp)] [--sets iris,wine --epsilons 0.001,0.01,0.1 (labelrankingtable2)] [--train N --epochs N --seeds N (digitsorting, subsetselection) --lengths 3,5 (digitsorting)]
using System.Globalization;
using Microsoft.ML.Perturbed.Experiments;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 0)
{
    Console.WriteLine("Usage: Experiments <shortestpath|knapsack|sortingmatching|syntheticranking|classification|classificationsweep|labelranking|suquan|sinkhornimplicit|softtopk|leastquantile|warcraft|globetsp|labelrankingtable2|digitsorting|subsetselection> [--quick] [--out DIR] [--data PATH] [--lengths 5,10 --repetitions N[,N…] --epochs N --methods dlm0,dlm1,dsl,dslpos,fy,gs (sortingmatching)] [--epochs N --train N --seeds N --sigmas a,b --reductions N --plateau N (syntheticranking)] [--train N --test N --epochs N --seeds N --sizes 12,18 --hidden N --lr X --methods fy,blackbox,identity,spo,squared (warcraft)] [--seeds N --epochs N --train N (globetsp)] [--sets iris,wine --epsilons 0.001,0.01,0.1 (labelrankingtable2)] [--train N --epochs N --seeds N (digitsorting, subsetselection) --lengths 3,5 (digitsorting)]");
    return 2;
}
Report.CaptureCommit();   // the build that runs, read before the run (the tree may change while it runs)
bool quick = args.Contains("--quick");
int outAt = Array.IndexOf(args, "--out");
string outDir = outAt >= 0 && outAt + 1 < args.Length ? args[outAt + 1] : Path.Combine("bench", "results", "experiments");
return args[0] switch
{
    "shortestpath" => ShortestPathExperiment.Run(quick, outDir, Console.Out) is null ? 1 : 0,
    "knapsack" => KnapsackExperiment.Run(quick, outDir, Console.Out).Count > 0 ? 0 : 1,
    "classification" => ClassificationExperiment.Run(quick, outDir, DataArgument() ?? ClassificationExperiment.DefaultData, Console.Out) is null ? 3 : 0,
    "classificationsweep" => ClassificationSweepExperiment.Run(quick, outDir, DataArgument() ?? ClassificationExperiment.DefaultData, Console.Out) is null ? 3 : 0,
    "suquan" => SuquanExperiment.Run(quick, outDir, DataArgument() ?? ClassificationExperiment.DefaultData, Console.Out, Option("--train") is { } size ? int.Parse(size) : null) is null ? 3 : 0,
    "labelranking" => LabelRankingTunedExperiment.Run(quick, outDir, DataArgument() ?? LabelRankingTunedExperiment.DefaultData, Console.Out) is null ? 3 : 0,
    "sortingmatching" => SortingMatchingExperiment.Run(quick, outDir, Console.Out, Option("--lengths")?.Split(',').Select(int.Parse).ToArray(),
        Option("--repetitions")?.Split(',').Select(int.Parse).ToArray(), IntOption("--epochs"), Option("--methods")?.Split(',')).Count > 0 ? 0 : 1,
    "syntheticranking" => SyntheticRankingExperiment.Run(quick, outDir, Console.Out, IntOption("--epochs"), IntOption("--train"), IntOption("--seeds"),
        Option("--sigmas")?.Split(',').Select(double.Parse).ToArray(), IntOption("--reductions"), IntOption("--plateau")).Count > 0 ? 0 : 1,
    "sinkhornimplicit" => SinkhornImplicitExperiment.Run(quick, outDir, Console.Out).Count > 0 ? 0 : 1,
    "softtopk" => SoftTopKExperiment.Run(quick, outDir, DataArgument() ?? ClassificationExperiment.DefaultData, Console.Out) is null ? 3 : 0,
    "leastquantile" => LeastQuantileExperiment.Run(quick, outDir, Console.Out).Count > 0 ? 0 : 1,
    "warcraft" => WarcraftExperiment.Run(quick, outDir, Console.Out, WarcraftSettings(), WarcraftArguments()).Count > 0 ? 0 : 1,
    "labelrankingtable2" => LabelRankingTable2Experiment.Run(quick, outDir, DataArgument() ?? LabelRankingTunedExperiment.DefaultData, Console.Out,
        Option("--sets")?.Split(','), Option("--epsilons")?.Split(',').Select(double.Parse).ToArray()) is null ? 3 : 0,
    "globetsp" => GlobeTspExperiment.Run(quick, outDir, Console.Out, IntOption("--seeds"), IntOption("--epochs"), IntOption("--train")).Count > 0 ? 0 : 1,
    "digitsorting" => DigitSortingExperiment.Run(quick, outDir, DataArgument() ?? ClassificationExperiment.DefaultData, Console.Out, DigitSettings()) is null ? 3 : 0,
    "subsetselection" => SubsetSelectionExperiment.Run(quick, outDir, Console.Out, SubsetSettings()).Count > 0 ? 0 : 1,
    string other => Unknown(other),
};

int? IntOption(string name) => Option(name) is { } value ? int.Parse(value) : null;

string? DataArgument() => Option("--data");

// The Warcraft protocol with its overrides (--train, --test, --epochs, --seeds, --sizes 12,18, --hidden, --lr, --methods).
WarcraftExperiment.Settings WarcraftSettings()
{
    var s = quick ? WarcraftExperiment.Settings.Quick : WarcraftExperiment.Settings.Full;
    int Int(string name, int fallback) => Option(name) is { } v ? int.Parse(v) : fallback;
    return s with
    {
        Train = Int("--train", s.Train), Test = Int("--test", s.Test), Epochs = Int("--epochs", s.Epochs), Seeds = Int("--seeds", s.Seeds),
        Hidden = Int("--hidden", s.Hidden), LearningRate = Option("--lr") is { } lr ? double.Parse(lr) : s.LearningRate, Sizes = Option("--sizes")?.Split(',').Select(int.Parse).ToArray() ?? s.Sizes,
        Methods = Option("--methods")?.Split(',') ?? s.Methods,
    };
}

string WarcraftArguments() => string.Concat(new[] { "--train", "--test", "--epochs", "--seeds", "--sizes", "--hidden", "--lr", "--methods" }
    .Where(n => Option(n) is not null).Select(n => $" {n} {Option(n)}"));
// --train, --epochs, --seeds override the quick or full sizes of digitsorting and subsetselection (null when none is given).
DigitSortingExperiment.Settings? DigitSettings()
{
    var d = quick ? DigitSortingExperiment.Settings.Quick : DigitSortingExperiment.Settings.Full;
    int[]? lengths = Option("--lengths")?.Split(',').Select(int.Parse).ToArray();
    if (Sizes() is not { } z) return lengths is null ? null : d with { Lengths = lengths };
    return d with { Lengths = lengths ?? d.Lengths, TrainSequences = z.Train ?? d.TrainSequences, Epochs = z.Epochs ?? d.Epochs, Seeds = z.Seeds ?? d.Seeds };
}

SubsetSelectionExperiment.Settings? SubsetSettings()
{
    var d = quick ? SubsetSelectionExperiment.Settings.Quick : SubsetSelectionExperiment.Settings.Full;
    return Sizes() is { } z ? d with { TrainRows = z.Train ?? d.TrainRows, Epochs = z.Epochs ?? d.Epochs, Seeds = z.Seeds ?? d.Seeds } : null;
}

(int? Train, int? Epochs, int? Seeds)? Sizes()
{
    (int? Train, int? Epochs, int? Seeds) z = (IntOption("--train"), IntOption("--epochs"), IntOption("--seeds"));
    return z is (null, null, null) ? null : z;
}

string? Option(string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

static int Unknown(string name)
{
    Console.Error.WriteLine($"Unknown experiment '{name}'. Experiments: shortestpath, knapsack, sortingmatching, syntheticranking, classification, classificationsweep, labelranking, suquan, sinkhornimplicit, softtopk, leastquantile, warcraft, globetsp, labelrankingtable2, digitsorting, subsetselection.");
    return 2;
}
