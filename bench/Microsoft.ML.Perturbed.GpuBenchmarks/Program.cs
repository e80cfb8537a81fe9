// GPU benchmark of the TorchSharp backend (bench/gpu/run-on-gpu.sh runs it on the GPU machine):
//   perturbed Argmax / TopK(10) / Ranking, forward and forward + VJP, for M × batch × d noisy scores;
//   Sinkhorn soft ranks, forward + backward; training throughput of the TorchSharp training backend vs the CPU one.
//   dotnet run -c Release --project bench/Microsoft.ML.Perturbed.GpuBenchmarks -- [--device cpu|cuda] [--core]
//       [--m 100] [--batch 4096] [--d 1000] [--chunk 0] [--repeats 5] [--bandwidth 3350] [--markdown results.md] [--skip-training]
//   ... -- --backends [--device cpu|cuda] [--markdown bench/results/backends.md]: managed vs TorchSharp training step, batch × model.
// --core times the managed core instead (the CPU baseline). Times are wall-clock per call after one warm-up, with the
// device synchronized before the clock is read.
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Perturbed;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.TorchSharp;
using Microsoft.ML.Perturbed.Training;
using static TorchSharp.torch;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string Arg(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
int m = int.Parse(Arg("--m", "100")), batch = int.Parse(Arg("--batch", "4096")), d = int.Parse(Arg("--d", "1000")), repeats = int.Parse(Arg("--repeats", "5"));
int samplesPerChunk = int.Parse(Arg("--chunk", "0"));   // TorchPerturbedOptimizer.SamplesPerChunk; 0 = automatic (≤ 2²⁷ values)
double bandwidth = double.Parse(Arg("--bandwidth", "3350")) * 1e9;
string? markdown = Arg("--markdown", "") is { Length: > 0 } path ? path : null;
bool core = args.Contains("--core");
string deviceName = Arg("--device", "cpu");

double elements = (double)m * batch * d;
// The unfused device code writes Z, reads it, writes θ + εZ, reads it in the head and writes the solutions, which the
// mean reads again: about 6 float passes over M × batch × d. The floor is the time those bytes take at full bandwidth.
double floorMs = 6.0 * 4 * elements / bandwidth * 1e3;
var lines = new List<string>();
void Report(string line) { Console.WriteLine(line); lines.Add(line); }
Report($"shape M={m} batch={batch} d={d}: {elements / 1e6:F0} M perturbed elements; 6-pass bandwidth floor at {bandwidth / 1e9:F0} GB/s = {floorMs:F2} ms");

if (args.Contains("--backends"))
{
    // Where each training backend wins: one epoch of label ranking (d 10 labels, 20 features, M 10) per batch size and
    // model, managed CPU step against the TorchSharp step on the chosen device, same run and thread count.
    Report("");
    Report($"| model | batch | managed CPU (rows/s) | TorchSharp {deviceName}, loss on the device (rows/s) | TorchSharp {deviceName}, default (rows/s) | device loss / managed | default / managed |");
    Report("|---|---|---|---|---|---|---|");
    Device device0 = deviceName == "cuda" ? CUDA : CPU;
    foreach (int[] hidden in new[] { Array.Empty<int>(), [64, 64], [512, 512] })
    foreach (int b in new[] { 32, 256, 2048 })
    {
        int rows = hidden.Length > 0 && hidden[0] >= 512 ? 8192 : 16384;
        (float[] bx, float[] by) = RankingRows(rows, 10, 20, new Random(7));
        double RowsPerSecond(IStructuredTrainingBackend backend, IReadOnlyList<int> layers)
        {
            var options = new StructuredTrainerOptions { Samples = 10, BatchSize = b, NumberOfIterations = 1, Seed = 1, HiddenLayers = layers };
            StructuredTrainer.Fit(new RankingOracle(10), bx, by, 20, options, backend: backend);   // warm-up epoch (tiered JIT, libtorch)
            var watch = Stopwatch.StartNew();
            StructuredTrainer.Fit(new RankingOracle(10), bx, by, 20, options, backend: backend);
            return rows / watch.Elapsed.TotalSeconds;
        }
        double managed = RowsPerSecond(CpuTrainingBackend.Instance, hidden);
        double onDevice = RowsPerSecond(new TorchTrainingBackend(device0) { LossOnDevice = true }, hidden);
        double torch = RowsPerSecond(new TorchTrainingBackend(device0), hidden);   // LossOnDevice null: host loss on the CPU
        string model = hidden.Length == 0 ? "affine" : "MLP " + string.Join("-", hidden);
        Report($"| {model} | {b} | {managed / 1e3:F1} k | {onDevice / 1e3:F1} k | {torch / 1e3:F1} k | {onDevice / managed:F2} | {torch / managed:F2} |");
    }
    Save();
    return;
}

// Generated label-ranking rows: ascending ranks of a random linear map of uniform features.
static (float[] X, float[] Ranks) RankingRows(int rows, int labels, int features, Random random)
{
    var x = new float[rows * features];
    var targets = new float[rows * labels];
    var w = new double[labels * features];
    for (int i = 0; i < w.Length; i++) w[i] = random.NextDouble() * 2 - 1;
    var s = new double[labels];
    for (int r = 0; r < rows; r++)
    {
        for (int j = 0; j < features; j++) x[r * features + j] = (float)(random.NextDouble() * 2 - 1);
        for (int l = 0; l < labels; l++)
        {
            s[l] = 0;
            for (int j = 0; j < features; j++) s[l] += w[l * features + j] * x[r * features + j];
        }
        for (int l = 0; l < labels; l++) targets[r * labels + l] = 1 + s.Count(v => v < s[l]);
    }
    return (x, targets);
}

var scores = new float[batch * d];
var rng = new Random(1);
for (int i = 0; i < scores.Length; i++) scores[i] = (float)rng.NextDouble();
var heads = new (string Name, DeviceKernelKind Kind, Func<Oracle> Oracle)[]
{
    ("Argmax", DeviceKernelKind.Argmax, () => new ArgmaxOracle(d)),
    ("TopK10", DeviceKernelKind.TopK, () => new TopKOracle(d, 10)),
    ("Ranking", DeviceKernelKind.Ranking, () => new RankingOracle(d)),
};

double Time(Action<ulong> once, Action? synchronize = null)
{
    once(0);
    synchronize?.Invoke();
    var watch = Stopwatch.StartNew();
    for (int r = 0; r < repeats; r++) once((ulong)r + 1);
    synchronize?.Invoke();
    return watch.Elapsed.TotalMilliseconds / repeats;
}

string Rate(double ms) => $"{elements / (ms / 1e3) / 1e6:F0} M/s";

if (core)
{
    Report($"| managed core ({Environment.ProcessorCount} threads) | forward | forward + VJP |");
    Report("|---|---|---|");
    var solution = new float[batch * d];
    var vjp = new float[batch * d];
    var cotangent = new float[batch * d];
    for (int i = 0; i < cotangent.Length; i++) cotangent[i] = (float)(rng.NextDouble() - 0.5);
    foreach (var head in heads)
    {
        var optimizer = new PerturbedOptimizer(head.Oracle(), new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = m });
        double forward = Time(draw => optimizer.Forward(scores, solution, draw: draw));
        double both = Time(draw => optimizer.ForwardVjp(scores, cotangent, solution, vjp, draw: draw));
        Report($"| {head.Name} | {forward:F1} ms ({Rate(forward)}) | {both:F1} ms ({Rate(both)}) |");
    }
    if (!args.Contains("--skip-training")) Training(($"CPU core ({Environment.ProcessorCount} threads)", CpuTrainingBackend.Instance));
    Save();
    return;
}

LibTorchRuntime.EnsureLoaded();
Device device = deviceName == "cuda" ? TorchDevice.Select(0, fallbackToCpu: false) : CPU;
Action? sync = device.type == TorchSharp.DeviceType.CUDA ? () => cuda.synchronize() : null;
Report($"device {device}; CUDA available: {cuda.is_available()} ({(cuda.is_available() ? cuda.device_count() : 0)} device(s)); TorchSharp built for libtorch {__version__}");
using (Tensor theta = tensor(scores, [batch, d]).to(device))
using (Tensor g = (rand([batch, d], generator: new Generator(2)) - 0.5).to(device))
{
    Report("");
    int chunk = samplesPerChunk > 0 ? Math.Min(samplesPerChunk, m) : (int)Math.Clamp((1L << 27) / ((long)batch * d), 1, m);
    Report($"samples per chunk: {chunk} ({(m + chunk - 1) / chunk} chunk(s) of M = {m})");
    Report("");
    Report($"| {device} | forward | × floor | forward + VJP | × floor |");
    Report("|---|---|---|---|---|");
    foreach (var head in heads)
    {
        var optimizer = new TorchPerturbedOptimizer(head.Kind, d, new PerturbedOptimizerOptions { Epsilon = 0.5, Samples = m }, device, k: 10) { SamplesPerChunk = samplesPerChunk };
        double forward = Time(draw =>
        {
            (Tensor y, Tensor f) = optimizer.Forward(theta, draw);
            y.Dispose();
            f.Dispose();
        }, sync);
        double both = Time(draw =>
        {
            (Tensor y, Tensor v) = optimizer.ForwardVjp(theta, g, draw);
            y.Dispose();
            v.Dispose();
        }, sync);
        Report($"| {head.Name} | {forward:F2} ms ({Rate(forward)}) | {forward / floorMs:F1} | {both:F2} ms ({Rate(both)}) | {both / floorMs:F1} |");
    }
}

// Sinkhorn soft ranks on the device, forward + backward through the unrolled iterations.
const int sinkhornN = 100, sinkhornIterations = 50;
using (Tensor values = randn([batch, sinkhornN], generator: new Generator(3)).to(device))
{
    double ms = Time(_ =>
    {
        using var scope = NewDisposeScope();
        Tensor x = values.detach().requires_grad_(true);
        TorchSinkhorn.Ranks(x, 0.05, sinkhornIterations).sum().backward();
    }, sync);
    Report("");
    Report($"Sinkhorn soft ranks, batch {batch} × n {sinkhornN}, {sinkhornIterations} iterations, forward + backward: {ms:F2} ms ({batch / (ms / 1e3):F0} rows/s)");
}

if (!args.Contains("--skip-training"))
{
    Training(
        ($"CPU core ({Environment.ProcessorCount} threads)", CpuTrainingBackend.Instance),
        ($"TorchSharp {device}, affine", new TorchTrainingBackend(device)),
        ($"TorchSharp {device}, MLP 256-256", new TorchTrainingBackend(device, 256, 256)));
}
Save();

void Save()
{
    if (markdown is not null)
    {
        File.AppendAllLines(markdown, lines.Select(l => l.Length > 0 && !l.StartsWith('|') ? l + "  " : l).Append(""));
    }
}

// Label ranking with the ranking head (d 10 labels, 20 features), one epoch over generated rows, M = 10.
void Training(params (string Name, IStructuredTrainingBackend Backend)[] backends)
{
    const int labels = 10, features = 20, rows = 100_000;
    (float[] x, float[] targets) = RankingRows(rows, labels, features, rng);
    Report("");
    Report($"| training backend ({rows / 1000}k rows, d {labels}, {features} features, M 10, batch 256, 1 epoch) | rows/s |");
    Report("|---|---|");
    foreach ((string name, IStructuredTrainingBackend backend) in backends)
    {
        var options = new StructuredTrainerOptions { Samples = 10, BatchSize = 256, NumberOfIterations = 1, Seed = 1 };
        // The warm-up is a whole epoch too: shorter ones leave the managed code partly unoptimized (tiered JIT).
        StructuredTrainer.Fit(new RankingOracle(labels), x, targets, features, options, backend: backend);
        var watch = Stopwatch.StartNew();
        StructuredTrainer.Fit(new RankingOracle(labels), x, targets, features, options, backend: backend);
        Report($"| {name} | {rows / watch.Elapsed.TotalSeconds / 1e3:F0} k |");
    }
}
