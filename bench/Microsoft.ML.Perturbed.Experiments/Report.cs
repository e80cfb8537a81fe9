using System.Diagnostics;

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
    /// The commit the run is built from, for the result files: <c>git rev-parse --short HEAD</c>, "+dirty" when tracked files
    /// differ from it, "unknown" outside a repository.
    /// </summary>
    public static string Commit()
    {
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
        return head.Length == 0 ? "unknown" : Git("status --porcelain --untracked-files=no").Length > 0 ? head + "+dirty" : head;
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
