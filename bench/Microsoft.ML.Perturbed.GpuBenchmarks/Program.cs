// Perturbed Argmax / TopK(10) / Ranking forward passes for M × batch × d noisy scores, on a device or on the managed core.
//   dotnet run -c Release --project bench/Microsoft.ML.Perturbed.GpuBenchmarks -- [--device cpu|cuda] [--core] [--m 100] [--batch 4096] [--d 1000] [--repeats 5]
// Prints time per call, perturbed elements per second, and the ratio to the memory-bandwidth floor of the bytes a fused
// implementation must move (--bandwidth GB/s; H100 SXM ≈ 3350, H200 ≈ 4800).
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Perturbed;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.TorchSharp;
using static TorchSharp.torch;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string Arg(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
int m = int.Parse(Arg("--m", "100")), batch = int.Parse(Arg("--batch", "4096")), d = int.Parse(Arg("--d", "1000")), repeats = int.Parse(Arg("--repeats", "5"));
double bandwidth = double.Parse(Arg("--bandwidth", "3350")) * 1e9;
bool core = args.Contains("--core");
string deviceName = Arg("--device", "cpu");

double elements = (double)m * batch * d;
// A fused kernel reads θ once and writes ŷ once; an unfused one (this one) also writes and reads Z, θ + εZ and the
// solutions: about 6 float passes over M × batch × d. The floor uses the unfused count, the bytes this code moves.
double bytes = 6.0 * 4 * elements;
Console.WriteLine($"shape M={m} batch={batch} d={d}: {elements / 1e6:F0} M perturbed elements; floor at {bandwidth / 1e9:F0} GB/s = {bytes / bandwidth * 1e3:F2} ms");
var scores = new float[batch * d];
var rng = new Random(1);
for (int i = 0; i < scores.Length; i++) scores[i] = (float)rng.NextDouble();

if (core)
{
    var solution = new float[batch * d];
    foreach ((string name, Oracle oracle) in new (string, Oracle)[] { ("Argmax", new ArgmaxOracle(d)), ("TopK10", new TopKOracle(d, 10)), ("Ranking", new RankingOracle(d)) })
    {
        var optimizer = new PerturbedOptimizer(oracle, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = m });
        optimizer.Forward(scores, solution);
        var watch = Stopwatch.StartNew();
        for (int r = 0; r < repeats; r++) optimizer.Forward(scores, solution, draw: (ulong)r);
        double ms = watch.Elapsed.TotalMilliseconds / repeats;
        Console.WriteLine($"core CPU ({Environment.ProcessorCount} threads) {name,-8} {ms,10:F1} ms  {elements / (ms / 1e3) / 1e6,10:F0} M elements/s");
    }
    return;
}

LibTorchRuntime.EnsureLoaded();
Device device = deviceName == "cuda" ? TorchDevice.Select(0, fallbackToCpu: false) : CPU;
Console.WriteLine($"device {device}, cuda available: {cuda.is_available()}");
using Tensor theta = tensor(scores, [batch, d]).to(device);
foreach ((string name, TorchHeadKind kind) in new[] { ("Argmax", TorchHeadKind.Argmax), ("TopK10", TorchHeadKind.TopK), ("Ranking", TorchHeadKind.Ranking) })
{
    var optimizer = new TorchPerturbedOptimizer(kind, d, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = m }, device, k: 10);
    void Once(ulong draw)
    {
        (Tensor y, Tensor f) = optimizer.Forward(theta, draw);
        y.Dispose();
        f.Dispose();
        if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize();
    }
    Once(0);
    var watch = Stopwatch.StartNew();
    for (int r = 0; r < repeats; r++) Once((ulong)r + 1);
    double ms = watch.Elapsed.TotalMilliseconds / repeats;
    Console.WriteLine($"{device,-6} {name,-8} {ms,10:F2} ms  {elements / (ms / 1e3) / 1e6,10:F0} M elements/s  {ms / (bytes / bandwidth * 1e3),6:F1}× the bandwidth floor");
}
