using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// The calling thread's CPU time in milliseconds (Linux: clock_gettime(CLOCK_THREAD_CPUTIME_ID)), for the single-threaded
/// micro-measurements (`topk`, `parts`): on a shared machine other processes' load stretches wall time but not the
/// time this thread ran. Elsewhere, elapsed time.
/// </summary>
internal static class ThreadClock
{
    /// <summary>Which clock <see cref="Milliseconds"/> reads, for the printed header.</summary>
    public static string Name => OperatingSystem.IsLinux() ? "thread CPU time" : "elapsed time";

    /// <summary>Current reading in milliseconds.</summary>
    public static double Milliseconds()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(3, out Timespec time) == 0)   // 3: CLOCK_THREAD_CPUTIME_ID
        {
            return time.Seconds * 1e3 + time.Nanoseconds * 1e-6;
        }
        return Stopwatch.GetTimestamp() * 1e3 / Stopwatch.Frequency;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
