namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>The process's memory as Linux reports it in /proc/self/status (the kernel's own high-water mark).</summary>
public static class PeakMemory
{
    /// <summary>Peak resident set size (VmHWM), bytes; 0 where /proc is not there.</summary>
    public static long PeakResidentBytes() => Read("VmHWM:");

    /// <summary>Current resident set size (VmRSS), bytes.</summary>
    public static long ResidentBytes() => Read("VmRSS:");

    private static long Read(string key)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return 0;
        foreach (string line in File.ReadLines(path))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
            string[] parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;   // kB
        }
        return 0;
    }
}
