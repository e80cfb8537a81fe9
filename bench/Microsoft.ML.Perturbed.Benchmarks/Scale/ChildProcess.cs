using System.Diagnostics;
using System.Text.Json;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>
/// Runs one measurement in a fresh process of this program (<c>scale child …</c>), so that each trainer's peak resident set
/// is its own; echoes the child's output and returns the <see cref="ScaleResult"/> it printed.
/// </summary>
public static class ChildProcess
{
    public static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Runs <c>scale child <paramref name="arguments"/></c>; null when the child failed (its output says why).</summary>
    public static ScaleResult? Run(params string[] arguments)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("No process path.");
        var info = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        info.ArgumentList.Add("scale");
        info.ArgumentList.Add("child");
        foreach (string a in arguments) info.ArgumentList.Add(a);
        Console.Error.WriteLine($"[scale] child: {string.Join(' ', arguments)}");
        using var process = Process.Start(info) ?? throw new InvalidOperationException("The child did not start.");
        ScaleResult? result = null;
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null)
        {
            if (line.StartsWith(ScaleResult.Marker, StringComparison.Ordinal))
            {
                result = JsonSerializer.Deserialize<ScaleResult>(line[ScaleResult.Marker.Length..], Json);
            }
            Console.Error.WriteLine($"    {line}");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"[scale] child exited with {process.ExitCode}");
            return null;
        }
        return result;
    }

    /// <summary>In the child: prints the result line (with the peak resident set and the managed heap filled in).</summary>
    public static void Report(ScaleResult result)
    {
        result = result with
        {
            PeakRssBytes = PeakMemory.PeakResidentBytes(),
            ManagedHeapBytes = GC.GetTotalMemory(forceFullCollection: false),
        };
        Console.WriteLine(ScaleResult.Marker + JsonSerializer.Serialize(result, Json));
    }

    /// <summary>Appends a result to a JSON-lines file (the report reads these).</summary>
    public static void Append(string path, ScaleResult result)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.AppendAllText(path, JsonSerializer.Serialize(result, Json) + Environment.NewLine);
    }

    /// <summary>Reads a JSON-lines file of results; empty when it is not there.</summary>
    public static List<ScaleResult> Load(string path) => !File.Exists(path) ? []
        : File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<ScaleResult>(l, Json)!).ToList();
}
