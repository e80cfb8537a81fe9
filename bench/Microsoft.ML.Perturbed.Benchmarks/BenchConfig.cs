using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>Short job (2 warm-ups, 7 iterations) so the whole grid fits in minutes on 2 cores; GitHub markdown output.</summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default.WithWarmupCount(2).WithIterationCount(7).WithLaunchCount(1).WithId("Short"));
        AddColumn(new ElementsPerSecondColumn());
        AddExporter(MarkdownExporter.GitHub);
        WithOptions(ConfigOptions.DisableLogFile);
    }
}

/// <summary>Noisy score elements processed per second: M × batch × d (or n² for matching) divided by the mean time.</summary>
public sealed class ElementsPerSecondColumn : IColumn
{
    public string Id => "ElementsPerSecond";
    public string ColumnName => "Elements/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Perturbed score elements (M × batch × d) per second";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats is null || benchmarkCase.Descriptor.Type.Name is not ("PerturbedHeadBenchmarks" or "MatchingBenchmarks" or "ScalingBenchmarks"))
        {
            return "NA";
        }
        double elements = Param(benchmarkCase, "M", "Samples", 10) * Param(benchmarkCase, "Batch", null, benchmarkCase.Descriptor.Type.Name switch
        {
            "MatchingBenchmarks" => 16,
            _ => 256,
        }) * Dimension(benchmarkCase);
        return $"{elements / (stats.Mean * 1e-9) / 1e6:F1} M";
    }

    private static double Dimension(BenchmarkCase c)
    {
        foreach (var p in c.Parameters.Items)
        {
            if (p.Name == "D") return Convert.ToDouble(p.Value);
            if (p.Name == "N") return Math.Pow(Convert.ToDouble(p.Value), 2);
        }
        return 100;
    }

    private static double Param(BenchmarkCase c, string name, string? alias, double fallback)
    {
        foreach (var p in c.Parameters.Items)
        {
            if (p.Name == name || p.Name == alias) return Convert.ToDouble(p.Value);
        }
        return c.Descriptor.Type.Name == "ScalingBenchmarks" && name == "M" ? 100 : fallback;
    }

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
