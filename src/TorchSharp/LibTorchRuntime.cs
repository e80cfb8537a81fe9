using System.Runtime.InteropServices;
using TorchSharp;

namespace Microsoft.ML.Perturbed.TorchSharp;

/// <summary>
/// Loads libtorch through TorchSharp once, applying the project's fix for Linux machines whose libstdc++ lacks
/// GLIBCXX_3.4.32 (see build/Microsoft.ML.Perturbed.TorchSharp.targets): the shim built next to the native glue is
/// loaded with RTLD_GLOBAL first, so the glue's one reference to <c>std::ios_base_library_init()</c> resolves.
/// </summary>
public static class LibTorchRuntime
{
    private const int RtldNow = 0x2, RtldGlobal = 0x100;
    private static readonly Lazy<string?> s_failure = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern IntPtr DlOpen(string file, int mode);

    /// <summary>True when the shim was needed and loaded (a libstdc++ older than GCC 13's).</summary>
    public static bool ShimLoaded { get; private set; }

    /// <summary>Makes sure libtorch is usable; throws <see cref="InvalidOperationException"/> explaining why it is not.</summary>
    public static void EnsureLoaded()
    {
        if (s_failure.Value is { } failure)
        {
            throw new InvalidOperationException(failure);
        }
    }

    private static string? Load()
    {
        if (OperatingSystem.IsLinux())
        {
            foreach (string dir in new[] { Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"), AppContext.BaseDirectory })
            {
                string shim = Path.Combine(dir, "libglibcxx_shim.so");
                if (File.Exists(shim) && DlOpen(shim, RtldNow | RtldGlobal) != IntPtr.Zero)
                {
                    ShimLoaded = true;
                    break;
                }
            }
        }
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            return null;
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException or InvalidOperationException)
        {
            return "TorchSharp could not load libtorch: " + (e.InnerException ?? e).Message +
                (OperatingSystem.IsLinux() && !ShimLoaded
                    ? " On Linux with a libstdc++ older than GCC 13's (no GLIBCXX_3.4.32), the build must patch libLibTorchSharp.so and build libglibcxx_shim.so (needs gcc): see 'The libstdc++ fix' in the Microsoft.ML.Perturbed.TorchSharp package README."
                    : "");
        }
    }
}
