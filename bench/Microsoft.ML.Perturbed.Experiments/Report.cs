using System.Diagnostics;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>What every experiment writes: its provenance, the spread over seeds and line figures (ScottPlot PNGs, 900 × 540).</summary>
public static class Report
{
    /// <summary>
    /// The provenance line of a result file (docs/architecture.md, "Results and their provenance"; checked by
    /// ResultProvenanceTests): the command that wrote it and the commit it ran at, "with uncommitted changes" when the
    /// tracked files differ from that commit.
    /// </summary>
    /// <param name="arguments">The experiment's arguments, e.g. <c>shortestpath --quick</c>.</param>
    public static string ProducedBy(string arguments) =>
        ProducedByCommand($"dotnet run -c Release --project bench/Microsoft.ML.Perturbed.Experiments -- {arguments}");

    /// <summary>The provenance line of a result file written by <paramref name="command"/> (any project's).</summary>
    public static string ProducedByCommand(string command)
    {
        string commit = Git("rev-parse --short HEAD")?.Trim() ?? "unknown";
        bool dirty = !string.IsNullOrWhiteSpace(Git("status --porcelain --untracked-files=no"));
        return $"Produced by `{command}` at commit {commit}" + (dirty ? " with uncommitted changes" : "") + $" ({DateTime.UtcNow:yyyy-MM-dd}).";
    }

    /// <summary>The lines that show a table's figures (written next to it by the same run), one image each.</summary>
    /// <param name="suffix">The run's file suffix ("-quick" for a quick run, else empty).</param>
    /// <param name="stems">The figures' file names without the suffix and the extension.</param>
    public static string FigureLinks(string suffix, params string[] stems) =>
        "\n" + string.Concat(stems.Select(s => $"![{s}]({s}{suffix}.png)\n\n"));

    private static string? Git(string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? stdout : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;   // no git: the line says "commit unknown", which the provenance check refuses
        }
    }

    /// <summary>Sample standard deviation (n − 1); 0 for a single value.</summary>
    public static double Std(IReadOnlyCollection<double> values)
    {
        if (values.Count < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    /// <summary>Writes a figure of one line per series, with a legend.</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IEnumerable<(string Label, double[] X, double[] Y)> series)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (label, x, y) in series) plot.Add.Scatter(x, y).LegendText = label;
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend();
        plot.SavePng(path, 900, 540);
    }
}
