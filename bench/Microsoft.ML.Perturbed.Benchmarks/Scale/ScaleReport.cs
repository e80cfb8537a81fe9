using System.Globalization;
using System.Text;
using ScottPlot;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>
/// Writes <c>scale.md</c> (the three benchmarks' tables, the goals met or not, and the command and commit of every
/// measurement) and <c>scale.png</c> (peak resident set and fit time against rows) from the JSON lines under the results
/// folder.
/// </summary>
public static class ScaleReport
{
    public static int Write(string results, string outDir)
    {
        List<ScaleResult> text = ChildProcess.Load(Path.Combine(results, "text.jsonl"));
        List<ScaleResult> synth = ChildProcess.Load(Path.Combine(results, "synth.jsonl"));
        List<ScaleResult> synthData = ChildProcess.Load(Path.Combine(results, "synth-data.jsonl"));
        List<ScaleResult> sqlite = ChildProcess.Load(Path.Combine(results, "sqlite.jsonl"));
        var md = new StringBuilder();
        md.AppendLine("# Scale: real text, streamed hashed n-grams, label ranking from SQLite (issue 21, item 6)");
        md.AppendLine();
        md.AppendLine(ScaleReportText.Preamble);
        if (text.Count > 0) ScaleReportText.Text(md, text);
        if (synth.Count > 0) ScaleReportText.Synth(md, synth, synthData);
        if (sqlite.Count > 0) ScaleReportText.Sqlite(md, sqlite);
        // The hand-written analysis (profile, memory breakdown) below the marker survives a regeneration.
        string target = Path.Combine(outDir, "scale.md");
        if (File.Exists(target))
        {
            string old = File.ReadAllText(target);
            int start = old.IndexOf(AnalysisMarker, StringComparison.Ordinal), end = old.IndexOf("## Provenance", StringComparison.Ordinal);
            if (start >= 0) md.Append(old[start..(end > start ? end : old.Length)]);
        }
        md.AppendLine("## Provenance");
        md.AppendLine();
        md.AppendLine("| measurements | command | commit | measured (UTC) |");
        md.AppendLine("|---|---|---|---|");
        foreach (var group in text.Concat(synthData).Concat(synth).Concat(sqlite).GroupBy(r => (r.Benchmark, r.Command, r.Commit)))
        {
            string when = $"{group.Min(r => r.When)} – {group.Max(r => r.When)}";
            md.AppendLine($"| {group.Key.Benchmark} ({group.Count()}) | `{group.Key.Command}` | {group.Key.Commit} | {when} |");
        }
        md.AppendLine();
        md.AppendLine("Tables and figure: `dotnet run -c Release --project bench/Microsoft.ML.Perturbed.Benchmarks -- scale report` (reads the JSON lines under /tmp/scale/results).");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(target, md.ToString());
        if (synth.Count > 0) Figure(synth, sqlite, Path.Combine(outDir, "scale.png"));
        Console.WriteLine(md.ToString());
        return 0;
    }

    private static void Figure(List<ScaleResult> synth, List<ScaleResult> sqlite, string path)
    {
        var multiplot = new ScottPlot.Multiplot();
        multiplot.AddPlots(2);
        ScottPlot.Plot memory = multiplot.GetPlot(0), time = multiplot.GetPlot(1);
        foreach (var series in synth.Where(r => r.Trainer != "read").GroupBy(r => (r.Trainer, r.Setting)).OrderBy(g => g.Key.Trainer))
        {
            ScaleResult[] points = series.OrderBy(r => r.Rows).ToArray();
            double[] rows = points.Select(r => Math.Log10(r.Rows)).ToArray();
            string name = $"{ScaleReportText.TrainerName(series.Key.Trainer)}, {series.Key.Setting}";
            memory.Add.Scatter(rows, points.Select(r => r.PeakRssBytes / 1048576.0).ToArray()).LegendText = name;
            time.Add.Scatter(rows, points.Select(r => Math.Log10(r.FitSeconds)).ToArray()).LegendText = name;
        }
        foreach (var series in synth.Where(r => r.Trainer == "read").GroupBy(r => r.Setting))
        {
            ScaleResult[] points = series.OrderBy(r => r.Rows).ToArray();
            time.Add.Scatter(points.Select(r => Math.Log10(r.Rows)).ToArray(), points.Select(r => Math.Log10(r.FitSeconds)).ToArray()).LegendText = $"one read pass, {series.Key}";
        }
        foreach (var mode in sqlite.Where(r => r.Trainer is "streaming" or "in-memory"))
        {
            var marker = memory.Add.Marker(Math.Log10(mode.Rows), mode.PeakRssBytes / 1048576.0);
            marker.LegendText = $"label ranking from SQLite, {mode.Trainer}";
            marker.MarkerSize = 12;
        }
        memory.Title("Peak resident set (VmHWM) against training rows");
        memory.XLabel("log10 rows");
        memory.YLabel("MiB");
        memory.ShowLegend(ScottPlot.Alignment.UpperLeft);
        // Head-room above the highest point, so that the legend box covers no data.
        double top = synth.Concat(sqlite).Max(r => r.PeakRssBytes) / 1048576.0;
        memory.Axes.SetLimitsY(0, 1.45 * top);
        time.Title($"Fit time against training rows ({synth.First(r => r.Epochs > 0).Epochs} epochs)");
        time.XLabel("log10 rows");
        time.YLabel("log10 seconds");
        time.ShowLegend(ScottPlot.Alignment.UpperLeft);
        multiplot.SavePng(path, 1000, 1000);
    }

    /// <summary>The line above the hand-written part of scale.md that <c>scale report</c> keeps.</summary>
    public const string AnalysisMarker = "<!-- Hand-written analysis from here to Provenance: kept by `scale report`. -->";

    internal static string Mib(long bytes) => (bytes / 1048576.0).ToString("F0", CultureInfo.InvariantCulture);
}
