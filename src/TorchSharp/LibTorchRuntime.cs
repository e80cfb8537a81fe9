using System.Runtime.InteropServices;
using TorchSharp;

namespace Microsoft.ML.Perturbed.TorchSharp;

/// <summary>
/// Loads libtorch through TorchSharp once, applying the project's fix for Linux machines whose libstdc++ lacks
/// GLIBCXX_3.4.32 (see build/Microsoft.ML.Perturbed.TorchSharp.targets): the shim built next to the native glue is
/// loaded with RTLD_GLOBAL first, so the glue's one reference to <c>std::ios_base_library_init()</c> resolves.
/// </summary>
internal static class LibTorchRuntime
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
            return "TorchSharp could not load libtorch: " + (e.InnerException ?? e).Message
                + (MissingLibTorchHint(AppContext.BaseDirectory) is { } hint ? " " + hint : "")
                + (OperatingSystem.IsLinux() && !ShimLoaded
                    ? " On Linux with a libstdc++ older than GCC 13's (no GLIBCXX_3.4.32), the build must patch libLibTorchSharp.so and build libglibcxx_shim.so (needs gcc): see 'The libstdc++ fix' in the Microsoft.ML.Perturbed.TorchSharp package README."
                    : "");
        }
    }

    /// <summary>
    /// What to add when no libtorch library is in <paramref name="applicationDirectory"/> or its <c>runtimes/*/native</c>
    /// folders (null when one is): this package references TorchSharp only, and the application chooses its libtorch package.
    /// </summary>
    internal static string? MissingLibTorchHint(string applicationDirectory)
    {
        string[] names = ["libtorch_cpu.so", "libtorch.so", "torch_cpu.dll", "libtorch_cpu.dylib"];
        string runtimes = Path.Combine(applicationDirectory, "runtimes");
        IEnumerable<string> folders = Directory.Exists(runtimes)
            ? Directory.EnumerateDirectories(runtimes).Select(r => Path.Combine(r, "native")).Prepend(applicationDirectory)
            : [applicationDirectory];
        if (folders.Any(f => names.Any(n => File.Exists(Path.Combine(f, n))))) return null;
        return $"No native libtorch is in '{applicationDirectory}': Microsoft.ML.Perturbed.TorchSharp references the TorchSharp package only, "
            + "and the application chooses its libtorch. Add libtorch-cpu-linux-x64 (CPU on Linux; libtorch-cpu-win-x64 or libtorch-cpu-osx-arm64 elsewhere, "
            + "or TorchSharp-cpu for all three) or TorchSharp-cuda-linux / TorchSharp-cuda-windows (CUDA) to the application, "
            + "or put an existing libtorch's folder on the library path (LD_LIBRARY_PATH on Linux), as bench/gpu/run-on-gpu.sh does.";
    }
}
