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
    public static string ProducedByCommand(string command) =>
        $"Produced by `{command}` at commit {_commit ?? ReadCommit()} ({DateTime.UtcNow:yyyy-MM-dd}).";

    private static string? _commit;

    /// <summary>
    /// Reads the commit (and whether the tracked files differ from it) now, for every provenance line this run writes: the
    /// programs call it before they run, since the tree may change during a long run.
    /// </summary>
    public static void CaptureCommit() => _commit = ReadCommit();

    private static string ReadCommit()
    {
        string commit = Git("rev-parse --short HEAD")?.Trim() ?? "unknown";
        bool dirty = !string.IsNullOrWhiteSpace(Git("status --porcelain --untracked-files=no"));
        return commit + (dirty ? " with uncommitted changes" : "");
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

    /// <summary>
    /// The entries of a run's table that its command line names by short key (<c>--methods fy,spo</c>), in table order;
    /// every entry when <paramref name="chosen"/> is null or empty.
    /// </summary>
    /// <param name="items">The table's entries.</param>
    /// <param name="keys">One short key per entry, in the same order.</param>
    /// <param name="chosen">The keys the run takes.</param>
    /// <param name="argument">The option's name, for the message.</param>
    /// <exception cref="ArgumentException">A key that names no entry.</exception>
    public static T[] ByKeys<T>(T[] items, string[] keys, IReadOnlyCollection<string>? chosen, string argument)
    {
        if (chosen is null || chosen.Count == 0) return items;
        if (chosen.FirstOrDefault(k => !keys.Contains(k)) is { } unknown)
            throw new ArgumentException($"Unknown key '{unknown}' in '{argument}': expected some of {string.Join(", ", keys)}.", argument);
        return items.Where((_, i) => chosen.Contains(keys[i])).ToArray();
    }

    /// <summary>Sample standard deviation (n − 1); 0 for a single value.</summary>
    public static double Std(IReadOnlyCollection<double> values)
    {
        if (values.Count < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    /// <summary>Writes a figure of one line per series, with a legend beside the data.</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IEnumerable<(string Label, double[] X, double[] Y)> series) =>
        Figure(path, title, xLabel, yLabel, series.Select(s => new Series(s.Label, s.X, s.Y)));

    /// <summary>
    /// Writes a figure (docs/architecture.md, "Results and their provenance"): one line per series with ± its
    /// <see cref="Series.Error"/> as error bars, its <see cref="Series.Published"/> values as open diamonds of the same
    /// colour, named tick labels for a categorical x axis, and the legend to the right of the plot, never over the data.
    /// </summary>
    /// <param name="yRange">The y axis's limits; null (default): fitted to the data.</param>
    public static void Figure(string path, string title, string xLabel, string yLabel, IEnumerable<Series> series, (double[] Positions, string[] Labels)? xTicks = null,
        (double Low, double High)? yRange = null)
    {
        var plot = new ScottPlot.Plot();
        // Colours by series from one palette (the error bars and diamonds would otherwise advance the plot's own palette, and
        // series past its end would repeat a colour).
        var palette = new ScottPlot.Palettes.Category10();
        int index = 0;
        foreach (Series s in series)
        {
            var line = plot.Add.Scatter(s.X, s.Y);
            line.Color = index < palette.Colors.Length ? palette.GetColor(index) : new ScottPlot.Palettes.Category20().GetColor(index);
            index++;
            line.LegendText = s.Label;
            if (s.Error is { } error)
            {
                var bars = plot.Add.ErrorBar(s.X, s.Y, error);
                bars.Color = line.Color;
            }
            if (s.Published is { } published)
            {
                int[] at = Enumerable.Range(0, s.X.Length).Where(i => double.IsFinite(published[i])).ToArray();
                if (at.Length == 0) continue;
                var marks = plot.Add.ScatterPoints(at.Select(i => s.X[i]).ToArray(), at.Select(i => published[i]).ToArray(), line.Color);
                marks.MarkerShape = ScottPlot.MarkerShape.OpenDiamond;
                marks.MarkerSize = 12;
                marks.LegendText = $"{s.Label}, published";
            }
        }
        if (xTicks is { } ticks) plot.Axes.Bottom.SetTicks(ticks.Positions, ticks.Labels);
        if (yRange is { } range) plot.Axes.SetLimitsY(range.Low, range.High);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(ScottPlot.Edge.Right);
        plot.SavePng(path, 1100, 540);
    }
}
