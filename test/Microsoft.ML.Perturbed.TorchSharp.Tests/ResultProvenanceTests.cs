using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Microsoft.ML.Perturbed.TorchSharp.Tests;

/// <summary>
/// Every result in <c>bench/results</c> says how to make it again (docs/architecture.md, "Results and their provenance"): each
/// table file has a <c>Produced by</c> line naming the command, in backticks, and the commit (a BenchmarkDotNet report: a line
/// of the folder's README.md that names the report); each command still exists at
/// HEAD (the project, the experiment or benchmark subcommand, the benchmark class a filter selects, the script); each figure
/// belongs to a table of its folder that names it.
/// </summary>
public sealed partial class ResultProvenanceTests(ITestOutputHelper output)
{
    [GeneratedRegex(@"^Produced by (?<what>.*)$", RegexOptions.Multiline)]
    private static partial Regex ProducedBy();

    [GeneratedRegex(@"`(?<command>(?:dotnet run|bash) [^`]+)`")]
    private static partial Regex Command();

    [GeneratedRegex(@"\bcommits? (?<hash>[0-9a-f]{7,40})\b")]
    private static partial Regex Commit();

    [Fact]
    public void Every_result_names_a_command_that_exists_and_its_commit()
    {
        string root = RepositoryPaths.Root();
        string results = Path.Combine(root, "bench", "results");
        var problems = new List<string>();
        var commits = new HashSet<string>();
        foreach (string file in Directory.EnumerateFiles(results, "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            string name = Path.GetFileName(file);
            if (name == "README.md") continue;   // the index: it links the files, each of which says where it came from
            // BenchmarkDotNet writes its reports whole, so theirs are the index's lines that name them.
            bool report = name.EndsWith("-report-github.md", StringComparison.Ordinal);
            string text = File.ReadAllText(report ? Path.Combine(Path.GetDirectoryName(file)!, "README.md") : file);
            Match[] lines = ProducedBy().Matches(text).Where(m => !report || m.Value.Contains(name, StringComparison.Ordinal)).ToArray();
            if (lines.Length == 0)
            {
                problems.Add($"{relative}: no 'Produced by `command` at commit <hash>' line");
                continue;
            }
            foreach (Match line in lines)
            {
                string what = line.Groups["what"].Value;
                Match[] commands = Command().Matches(what).ToArray();
                if (commands.Length == 0) problems.Add($"{relative}: its 'Produced by' line names no command in backticks");
                foreach (Match command in commands)
                {
                    string? problem = CommandProblem(root, command.Groups["command"].Value);
                    if (problem is not null) problems.Add($"{relative}: `{command.Groups["command"].Value}`: {problem}");
                }
                Match[] hashes = Commit().Matches(what).ToArray();
                if (hashes.Length == 0) problems.Add($"{relative}: its 'Produced by' line names no commit");
                foreach (Match hash in hashes) commits.Add(hash.Groups["hash"].Value);
            }
        }
        foreach (string png in Directory.EnumerateFiles(results, "*.png", SearchOption.AllDirectories))
        {
            string name = Path.GetFileName(png);
            bool named = Directory.EnumerateFiles(Path.GetDirectoryName(png)!, "*.md").Any(md => File.ReadAllText(md).Contains(name, StringComparison.Ordinal));
            if (!named) problems.Add($"{Path.GetRelativePath(root, png)}: no table of its folder names this figure");
        }
        // The commits must be this repository's, where its history is at hand (a shallow clone has too little of it).
        if (HasFullHistory(root))
        {
            foreach (string hash in commits)
            {
                if (Git(root, $"cat-file -e {hash}^{{commit}}") is null) problems.Add($"commit {hash} is not in this repository's history");
            }
        }
        foreach (string p in problems) output.WriteLine(p);
        Assert.True(problems.Count == 0, $"{problems.Count} result files without a command that exists or a commit; first: {problems.FirstOrDefault()}");
    }

    /// <summary>Why a command named by a result file would not run at HEAD; null when it would.</summary>
    private static string? CommandProblem(string root, string command)
    {
        string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words[0] == "bash")
        {
            return File.Exists(Path.Combine(root, words[1])) ? null : $"the script {words[1]} does not exist";
        }
        int projectAt = Array.IndexOf(words, "--project");
        if (projectAt < 0 || projectAt + 1 >= words.Length) return "a dotnet run without --project";
        string project = Path.Combine(root, words[projectAt + 1]);
        if (!Directory.Exists(project) || !Directory.EnumerateFiles(project, "*.csproj").Any()) return $"the project {words[projectAt + 1]} does not exist";
        int dashes = Array.IndexOf(words, "--");
        if (dashes < 0 || dashes + 1 >= words.Length) return null;   // the project's default run
        string sources = string.Join('\n', Directory.EnumerateFiles(project, "*.cs", SearchOption.TopDirectoryOnly).Select(File.ReadAllText));
        string first = words[dashes + 1];
        if (first == "--filter")
        {
            string pattern = dashes + 2 < words.Length ? words[dashes + 2].Trim('\'', '"').Trim('*') : "";
            if (pattern.Length == 0) return null;
            string all = string.Join('\n', Directory.EnumerateFiles(project, "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText));
            return Regex.IsMatch(all, $@"class \w*{Regex.Escape(pattern)}\w*") ? null : $"no benchmark class matches the filter '*{pattern}*'";
        }
        if (first.StartsWith("--", StringComparison.Ordinal))
        {
            return sources.Contains($"\"{first}\"", StringComparison.Ordinal) ? null : $"the program does not read the option {first}";
        }
        // A subcommand: an experiment's `"name" =>` case or a benchmark program's `args[0] == "name"`.
        return sources.Contains($"\"{first}\" =>", StringComparison.Ordinal) || sources.Contains($"args[0] == \"{first}\"", StringComparison.Ordinal)
            ? null
            : $"the program has no subcommand '{first}'";
    }

    private static bool HasFullHistory(string root) =>
        Directory.Exists(Path.Combine(root, ".git")) && Git(root, "rev-parse --is-shallow-repository")?.Trim() == "false";

    /// <summary>Runs git in <paramref name="root"/>; its output, or null when it fails or is not installed.</summary>
    private static string? Git(string root, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("git", arguments)
            {
                WorkingDirectory = root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? stdout : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
