using TorchSharp;

namespace Microsoft.ML.Perturbed.TorchSharp;

/// <summary>Chooses the device the perturbation batches run on.</summary>
public static class TorchDevice
{
    /// <summary>
    /// The device for a GPU request in ML.NET's terms: <paramref name="gpuDeviceId"/> null means CPU; a device id asks for
    /// that CUDA device, and when CUDA is absent either falls back to the CPU (<paramref name="fallbackToCpu"/>, as
    /// <c>MLContext.FallbackToCpu</c>) or throws.
    /// </summary>
    /// <exception cref="InvalidOperationException">A GPU was required and none is available.</exception>
    public static torch.Device Select(int? gpuDeviceId, bool fallbackToCpu)
    {
        LibTorchRuntime.EnsureLoaded();
        if (gpuDeviceId is null)
        {
            return torch.CPU;
        }
        if (gpuDeviceId < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(gpuDeviceId), gpuDeviceId, "A GPU device id is 0 or more.");
        }
        if (torch.cuda.is_available() && gpuDeviceId < torch.cuda.device_count())
        {
            return torch.device(DeviceType.CUDA, gpuDeviceId.Value);
        }
        if (fallbackToCpu)
        {
            return torch.CPU;
        }
        throw new InvalidOperationException(
            $"GPU device {gpuDeviceId} was requested (GpuDeviceId) but CUDA is {(torch.cuda.is_available() ? $"available with only {torch.cuda.device_count()} device(s)" : "not available")}; set FallbackToCpu = true to run on the CPU.");
    }
}
