using static TorchSharp.torch;

namespace Microsoft.ML.Perturbed.TorchSharp.Tests;

/// <summary>
/// The device the suite runs on: the CPU (CI), or CUDA device 0 when the environment variable PERTURBED_TEST_DEVICE is
/// "cuda" (the GPU acceptance run, bench/gpu/run-on-gpu.sh). A CUDA request without CUDA fails every test that uses it.
/// </summary>
internal static class TestDevice
{
    private static readonly Lazy<Device> s_device = new(() =>
        string.Equals(Environment.GetEnvironmentVariable("PERTURBED_TEST_DEVICE"), "cuda", StringComparison.OrdinalIgnoreCase)
            ? TorchDevice.Select(0, fallbackToCpu: false)
            : TorchDevice.Select(null, fallbackToCpu: false));

    public static Device Current => s_device.Value;

    public static bool IsCuda => Current.type == global::TorchSharp.DeviceType.CUDA;

    /// <summary>Runs <paramref name="run"/> with torch's intra-op thread count set to <paramref name="threads"/>, then restores it.</summary>
    public static T WithTorchThreads<T>(int threads, Func<T> run)
    {
        int previous = global::TorchSharp.torch.get_num_threads();
        global::TorchSharp.torch.set_num_threads(threads);
        try
        {
            return run();
        }
        finally
        {
            global::TorchSharp.torch.set_num_threads(previous);
        }
    }
}
