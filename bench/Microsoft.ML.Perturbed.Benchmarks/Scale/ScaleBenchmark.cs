using System.Diagnostics;
using System.Globalization;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>
/// The scale benchmarks (issue 21, item 6): <c>dotnet run -c Release --project bench/Microsoft.ML.Perturbed.Benchmarks -- scale SUBCOMMAND</c>.
/// <list type="bullet">
/// <item><c>debian [OUT.tsv]</c>: this machine's Debian package descriptions as a scratch file (<see cref="DebianCorpus"/>).</item>
/// <item><c>text [DATA.tsv] [--tuned EPOCHS,…] [--trainers NAME,…]</c>: benchmark 1, each trainer in its own process (<see cref="TextBenchmark"/>; default all of <c>TextBenchmark.Trainers</c>).</item>
/// <item><c>synth-data [--rows 10000,100000,1000000] [--bits 18,20]</c>: benchmark 2's binary files (<see cref="SyntheticCorpus"/>).</item>
/// <item><c>synth [--rows …] [--bits …] [--epochs 2] [--sdca-rows 100000]</c>: benchmark 2's measurements (<see cref="StreamingBenchmark"/>).</item>
/// <item><c>sqlite [--rows 1000000] [--epochs 1]</c>: benchmark 3 (<see cref="SqliteRankingBenchmark"/>).</item>
/// <item><c>report [--out bench/results]</c>: <c>scale.md</c> and <c>scale.png</c> from the measurements (<see cref="ScaleReport"/>).</item>
/// </list>
/// Scratch data and the raw measurements (JSON lines, with the command and commit of each) go under <c>--dir</c> (default
/// /tmp/scale), never into the repository.
/// </summary>
public static class ScaleBenchmark
{
    public static int Run(string[] args)
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: scale debian|text|synth-data|synth|sqlite|report [options]");
            return 2;
        }
        string dir = Option(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "scale");
        string results = Path.Combine(dir, "results");
        switch (args[1])
        {
            case "child":
                return Child(args[2..]);
            case "debian":
                DebianCorpus.Write(args.Length > 2 && !args[2].StartsWith("--", StringComparison.Ordinal) ? args[2] : Path.Combine(dir, "debian.tsv"));
                return 0;
            case "text":
            {
                string data = args.Length > 2 && !args[2].StartsWith("--", StringComparison.Ordinal) ? args[2] : Path.Combine(dir, "debian.tsv");
                if (!File.Exists(data)) DebianCorpus.Write(data);
                string file = Fresh(Path.Combine(results, "text.jsonl"));
                string[] trainers = Option(args, "--trainers")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? TextBenchmark.Trainers;
                foreach (string trainer in trainers) Record(file, args, ChildProcess.Run("text", trainer, data, "0"));
                foreach (string epochs in (Option(args, "--tuned") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    Record(file, args, ChildProcess.Run("text", "perturbed", data, epochs));
                }
                return 0;
            }
            case "synth-data":
            {
                string file = Fresh(Path.Combine(results, "synth-data.jsonl"));
                foreach (int bits in Ints(args, "--bits", "18,20"))
                {
                    string test = Path.Combine(dir, $"synth-test-{bits}.bin");
                    SyntheticCorpus.Write(test, 10_000, bits, seed: 999);
                    foreach (int rows in Ints(args, "--rows", "10000,100000,1000000"))
                    {
                        double seconds = SyntheticCorpus.Write(Path.Combine(dir, $"synth-{rows}-{bits}.bin"), rows, bits, seed: 7);
                        Console.Error.WriteLine($"[synth-data] {rows} rows, 2^{bits}: {seconds:F1} s");
                        Record(file, args, new ScaleResult { Benchmark = "synth-data", Trainer = "generate", Setting = $"2^{bits} slots", Rows = rows, Features = 1L << bits, FitSeconds = seconds });
                    }
                }
                return 0;
            }
            case "synth":
            {
                string file = Fresh(Path.Combine(results, "synth.jsonl"));
                string epochs = Option(args, "--epochs") ?? "2";
                int sdcaRows = Ints(args, "--sdca-rows", "100000")[0];
                foreach (int bits in Ints(args, "--bits", "18,20"))
                {
                    string test = Path.Combine(dir, $"synth-test-{bits}.bin");
                    foreach (int rows in Ints(args, "--rows", "10000,100000,1000000"))
                    {
                        string train = Path.Combine(dir, $"synth-{rows}-{bits}.bin");
                        Record(file, args, ChildProcess.Run("synth", "read", train, test, epochs));
                        Record(file, args, ChildProcess.Run("synth", "perturbed", train, test, epochs));
                        if (rows <= sdcaRows) Record(file, args, ChildProcess.Run("synth", "sdca-maxent", train, test, epochs));
                    }
                }
                return 0;
            }
            case "sqlite":
            {
                string file = Fresh(Path.Combine(results, "sqlite.jsonl"));
                int rows = Ints(args, "--rows", "1000000")[0];
                string epochs = Option(args, "--epochs") ?? "1";
                string db = Path.Combine(dir, $"ranking-{rows}.sqlite");
                double seconds = SqliteRankingBenchmark.Write(db, rows, seed: 42);
                Console.Error.WriteLine($"[sqlite] wrote {rows} rows to {db} in {seconds:F1} s ({new FileInfo(db).Length >> 20} MiB)");
                Record(file, args, new ScaleResult { Benchmark = "sqlite", Trainer = "generate", Setting = $"{new FileInfo(db).Length >> 20} MiB", Rows = rows, Features = SqliteRankingBenchmark.FeatureCount, FitSeconds = seconds });
                foreach (string trainer in new[] { "read", "streaming", "in-memory" }) Record(file, args, ChildProcess.Run("sqlite", trainer, db, epochs));
                return 0;
            }
            case "report":
                return ScaleReport.Write(results, Option(args, "--out") ?? Path.Combine("bench", "results"));
            default:
                throw new ArgumentOutOfRangeException(nameof(args), args[1], "Unknown scale subcommand; one of child, debian, text, synth-data, synth, sqlite, report.");
        }
    }

    private static int Child(string[] a) => a[0] switch
    {
        "text" => TextBenchmark.Child(a[1], a[2], int.Parse(a[3], CultureInfo.InvariantCulture)),
        "synth" => StreamingBenchmark.Child(a[1], a[2], a[3], int.Parse(a[4], CultureInfo.InvariantCulture)),
        "sqlite" => SqliteRankingBenchmark.Child(a[1], a[2], int.Parse(a[3], CultureInfo.InvariantCulture)),
        _ => throw new ArgumentOutOfRangeException(nameof(a), a[0], "Unknown child benchmark."),
    };

    /// <summary>Appends a child's result with the command and the commit that produced it.</summary>
    private static void Record(string file, string[] args, ScaleResult? result)
    {
        if (result is null) return;
        ChildProcess.Append(file, result with
        {
            Command = "dotnet run -c Release --project bench/Microsoft.ML.Perturbed.Benchmarks -- " + string.Join(' ', args),
            Commit = Commit(), When = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        });
    }

    private static string? s_commit;

    /// <summary>The working tree's commit ("+dirty" with uncommitted changes to tracked files).</summary>
    private static string Commit()
    {
        if (s_commit is not null) return s_commit;
        static string Git(string arguments)
        {
            try
            {
                var info = new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                using var p = Process.Start(info)!;
                string output = p.StandardOutput.ReadToEnd().Trim();
                p.WaitForExit();
                return p.ExitCode == 0 ? output : "";
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return "";
            }
        }
        string head = Git("rev-parse --short HEAD");
        bool dirty = Git("status --porcelain --untracked-files=no").Length > 0;
        return s_commit = head.Length == 0 ? "unknown" : dirty ? head + "+dirty" : head;
    }

    private static string Fresh(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path)) File.Move(path, path + ".previous", overwrite: true);
        return path;
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int[] Ints(string[] args, string name, string fallback) =>
        (Option(args, name) ?? fallback).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
}
