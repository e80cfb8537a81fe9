using System.Diagnostics;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// The reference ONNX checker (the Python <c>onnx</c> package's <c>onnx.checker.check_model</c> with <c>full_check</c>,
/// which also runs shape inference) on an exported file. .NET has no ONNX checker; Debian's <c>python3-onnx</c> (1.12,
/// opsets up to 17) provides one and <c>.ci/run</c> installs it. Without it the check is skipped, except under CI
/// (<c>CI=true</c>), where a missing checker fails the test.
/// </summary>
internal static class OnnxChecker
{
    private const string Python = "/usr/bin/python3";
    private static readonly Lazy<bool> Available = new(() => Exec("import onnx") is null);

    public static void Check(byte[] model)
    {
        if (!Available.Value)
        {
            Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
                $"CI must run the ONNX checker: {Python} with the onnx package (apt package python3-onnx) is missing.");
            return;
        }
        string path = Path.Combine(Path.GetTempPath(), "perturbed-onnx-" + Guid.NewGuid().ToString("N") + ".onnx");
        File.WriteAllBytes(path, model);
        try
        {
            // On failure the message lists the graph outputs' declared shapes, which is where exports usually go wrong.
            string? failure = Exec("""
                import onnx, sys
                m = onnx.load(sys.argv[1])
                try:
                    onnx.checker.check_model(m, full_check=True)
                except Exception as e:
                    shapes = [(o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]) for o in m.graph.output]
                    sys.exit(f"{e}\noutputs: {shapes}")
                """, path);
            Assert.True(failure is null, $"onnx.checker rejected the exported model: {failure}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Runs a Python snippet; null on success, else its error output (or why it could not start).</summary>
    private static string? Exec(string code, params string[] arguments)
    {
        if (!File.Exists(Python)) return $"{Python} not found";
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(code);
        foreach (string a in arguments) start.ArgumentList.Add(a);
        using Process process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? null : error.Trim();
    }
}
