namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>What every experiment writes: the spread over seeds and line figures (ScottPlot PNGs, 900 × 540).</summary>
public static class Report
{
    /// <summary>Sample standard deviation (n − 1); 0 for a single value.</summary>
    public static double Std(IReadOnlyCollection<double> values)
    {
        if (values.Count < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    /// <summary>
    /// The line that records which code produced a result: "Commit: `abc1234`" from <c>git rev-parse --short HEAD</c> in the
    /// working directory, marked when the working tree has uncommitted changes, or "Commit: unknown" without git.
    /// </summary>
    public static string Commit()
    {
        string? head = Git("rev-parse --short HEAD");
        if (head is null) return "Commit: unknown (no git repository here).";
        string? status = Git("status --porcelain --untracked-files=no");
        return $"Commit: `{head}`" + (string.IsNullOrEmpty(status) ? "." : " with uncommitted changes.");
    }

    private static string? Git(string arguments)
    {
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = System.Diagnostics.Process.Start(start);
            if (process is null) return null;
            string output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;   // no git on this machine
        }
    }

    /// <summary>
    /// Writes a figure of one line per series, with a legend (inside the axes, or right of them when
    /// <paramref name="legendOutside"/>); more than 10 series take a 20-colour palette, so that no two lines share a colour.
    /// </summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IEnumerable<(string Label, double[] X, double[] Y)> series, bool legendOutside = false)
    {
        var plot = new ScottPlot.Plot();
        var lines = series.ToList();
        if (lines.Count > 10) plot.Add.Palette = new ScottPlot.Palettes.Category20();   // the default palette repeats after 10
        foreach (var (label, x, y) in lines) plot.Add.Scatter(x, y).LegendText = label;
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (legendOutside) plot.ShowLegend(ScottPlot.Edge.Right);
        else plot.ShowLegend();
        plot.SavePng(path, 900, 540);
    }
}
