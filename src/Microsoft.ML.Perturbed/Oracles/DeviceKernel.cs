namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>
/// The batched kernel a device backend may run instead of an oracle (<see cref="Oracle.DeviceKernel"/>): the kernel's
/// solutions are the oracle's, ties included, so the backend reads this description instead of testing oracle types.
/// </summary>
/// <param name="Kind">The kernel.</param>
/// <param name="K">Its parameter: k for <see cref="DeviceKernelKind.TopK"/>; 1 (default) for the others.</param>
internal readonly record struct DeviceKernel(DeviceKernelKind Kind, int K = 1);
