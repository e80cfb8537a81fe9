namespace Microsoft.ML.Perturbed.TorchSharp.Tests;

public class LibTorchRuntimeTests
{
    [Fact]
    public void A_folder_without_libtorch_gets_a_hint_naming_the_packages_and_the_tests_own_folder_has_libtorch()
    {
        string empty = Directory.CreateTempSubdirectory("perturbed-no-libtorch-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(empty, "runtimes", "linux-x64", "native"));
            string hint = Assert.IsType<string>(LibTorchRuntime.MissingLibTorchHint(empty));
            Assert.Contains(empty, hint);
            Assert.Contains("libtorch-cpu-linux-x64", hint);
            Assert.Contains("TorchSharp-cuda-linux", hint);

            // The same folder with libtorch in a runtime's native folder (the layout of a build without -r) needs no hint.
            File.WriteAllBytes(Path.Combine(empty, "runtimes", "linux-x64", "native", "libtorch_cpu.so"), []);
            Assert.Null(LibTorchRuntime.MissingLibTorchHint(empty));
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }

        // This test project references libtorch-cpu-linux-x64, as an application does.
        Assert.Null(LibTorchRuntime.MissingLibTorchHint(AppContext.BaseDirectory));
    }
}
