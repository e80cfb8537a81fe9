using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;
using static TorchSharp.torch;

namespace Microsoft.ML.Perturbed.TorchSharp;

/// <summary>
/// The perturbed optimizer of the core (Berthet et al. 2020) with the M × batch × d perturbation batch on a TorchSharp
/// device, in chunks of samples (<see cref="SamplesPerChunk"/>): noise drawn on the device from seeded generators, the
/// head solved on the device (argmax, top-k, ranking; matching on the host), and ŷ_ε, F̂_ε and the VJP
/// (1/(Mε)) Σ ⟨yₘ, g⟩ ∇ν(Zₘ) from the same samples. The formulas and conventions are
/// the core's, so results agree with <see cref="PerturbedOptimizer"/> within Monte-Carlo error (not bit for bit: the
/// noise streams differ).
/// </summary>
public sealed class TorchPerturbedOptimizer
{
    /// <summary>Creates the optimizer for an oracle that has a device kernel: argmax, top-k, ranking (default reference) or matching.</summary>
    /// <param name="oracle">The oracle whose perturbation batch runs on the device.</param>
    /// <param name="options">ε, M, noise (normal or Gumbel), seed; additive perturbation without variance reduction.</param>
    /// <param name="device">Where to run; default the CPU.</param>
    /// <exception cref="ArgumentException">The oracle has no device kernel (a user's oracle, a shortest path, a knapsack, a ranking with another reference): use the core's <see cref="PerturbedOptimizer"/>.</exception>
    public TorchPerturbedOptimizer(Oracles.Oracle oracle, PerturbedOptimizerOptions options, Device? device = null)
        : this(Kernel(oracle), (oracle ?? throw new ArgumentNullException(nameof(oracle))).Dimension, options, device, oracle.DeviceKernel?.K ?? 1)
    {
    }

    private static DeviceKernelKind Kernel(Oracles.Oracle? oracle)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        return oracle.DeviceKernel is { } kernel
            ? kernel.Kind
            : throw new ArgumentException($"The oracle {oracle.Name} has no device kernel (argmax, top-k, ranking with the default reference, matching); use the core's PerturbedOptimizer.", nameof(oracle));
    }

    /// <summary>Creates the optimizer for a device kernel.</summary>
    /// <param name="head">The head.</param>
    /// <param name="dimension">Scores per row d.</param>
    /// <param name="options">ε, M, noise (normal or Gumbel), seed; additive perturbation.</param>
    /// <param name="device">Where to run; default the CPU.</param>
    /// <param name="k">k for <see cref="DeviceKernelKind.TopK"/>.</param>
    internal TorchPerturbedOptimizer(DeviceKernelKind head, int dimension, PerturbedOptimizerOptions options, Device? device = null, int k = 1)
    {
        ArgumentNullException.ThrowIfNull(options);
        LibTorchRuntime.EnsureLoaded();
        if (!Enum.IsDefined(head)) throw new ArgumentOutOfRangeException(nameof(head), head, "Unknown head.");
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "'dimension' must be at least 1.");
        if (head == DeviceKernelKind.TopK && (k < 1 || k > dimension)) throw new ArgumentOutOfRangeException(nameof(k), k, $"'k' must be in [1, {dimension}].");
        if (head == DeviceKernelKind.Matching)
        {
            int n = (int)Math.Round(Math.Sqrt(dimension));
            if (n * n != dimension) throw new ArgumentException($"The matching head needs n² scores per row (a square matrix), got {dimension}.", nameof(dimension));
            _matching = new Oracles.MatchingOracle(n);
        }
        options.Validate();   // the core's checks, once
        if (options.Noise is not (NormalNoise or GumbelNoise)) throw new ArgumentException("The device path supports normal and Gumbel noise.", nameof(options));
        if (options.Perturbation != PerturbationKind.Additive || options.VarianceReduction != VarianceReduction.None)
            throw new ArgumentException("The device path supports additive perturbation without variance reduction.", nameof(options));
        Head = head;
        Dimension = dimension;
        K = k;
        Epsilon = options.Epsilon;
        Samples = options.Samples;
        Noise = options.Noise;
        Seed = options.Seed;
        Device = device ?? CPU;
    }

    private readonly Oracles.MatchingOracle? _matching;

    /// <summary>The head.</summary>
    internal DeviceKernelKind Head { get; }

    /// <summary>Scores per row.</summary>
    public int Dimension { get; }

    /// <summary>k of the top-k head.</summary>
    public int K { get; }

    /// <summary>ε.</summary>
    public double Epsilon { get; }

    /// <summary>M.</summary>
    public int Samples { get; }

    /// <summary>Noise law.</summary>
    public NoiseDistribution Noise { get; }

    /// <summary>Seed.</summary>
    public int Seed { get; }

    /// <summary>The device.</summary>
    public Device Device { get; }

    /// <summary>
    /// Samples per chunk: the M samples are drawn, solved and reduced this many at a time, so the device holds a few
    /// chunk × batch × d tensors instead of M × batch × d ones. 0 (default) picks the largest chunk of at most 2²⁷ values
    /// (512 MB per float tensor). Results do not depend on it beyond float rounding: sample m's noise comes from its own
    /// generator, seeded by (seed, draw, m).
    /// </summary>
    public int SamplesPerChunk
    {
        get => _samplesPerChunk;
        init
        {
            if (value < 0) throw new ArgumentOutOfRangeException(nameof(SamplesPerChunk), value, "'SamplesPerChunk' must be 0 (automatic) or more.");
            _samplesPerChunk = value;
        }
    }

    private readonly int _samplesPerChunk;
    private const long AutomaticChunkValues = 1L << 27;

    /// <summary>ŷ_ε(θ) and F̂_ε(θ) for θ of shape [batch, d] (on any device; computed on <see cref="Device"/>).</summary>
    public (Tensor Solution, Tensor PerturbedMax) Forward(Tensor theta, ulong draw = 0)
    {
        using var scope = NewDisposeScope();
        (Tensor? solution, Tensor? max, _) = Reduce(Prepare(theta), draw, solution: true, perturbedMax: true, cotangent: null);
        return (solution!.MoveToOuterDisposeScope(), max!.MoveToOuterDisposeScope());
    }

    /// <summary>ŷ_ε(θ) and the VJP Jᵀg = (1/(Mε)) Σₘ ⟨yₘ, g⟩ ∇ν(Zₘ) from the same samples; θ and g of shape [batch, d].</summary>
    public (Tensor Solution, Tensor Vjp) ForwardVjp(Tensor theta, Tensor cotangent, ulong draw = 0)
    {
        using var scope = NewDisposeScope();
        Tensor th = Prepare(theta);
        (Tensor? solution, _, Tensor? vjp) = Reduce(th, draw, solution: true, perturbedMax: false, LikeScores(cotangent, th, nameof(cotangent)));
        return (solution!.MoveToOuterDisposeScope(), vjp!.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// One pass over the chunks of samples, accumulating what is asked for: ŷ_ε, F̂_ε, and the VJP when a cotangent is
    /// given. θ is float32 on the device (see <see cref="Prepare"/>).
    /// </summary>
    internal (Tensor? Solution, Tensor? PerturbedMax, Tensor? Vjp) Reduce(Tensor th, ulong draw, bool solution, bool perturbedMax, Tensor? cotangent)
    {
        Tensor? ySum = solution ? zeros_like(th) : null;
        Tensor? maxSum = perturbedMax ? zeros([th.shape[0]], ScalarType.Float32, Device) : null;
        Tensor? vjpSum = cotangent is null ? null : zeros_like(th);
        foreach ((int start, int count) in Chunks(th.shape[0]))
        {
            using var chunk = NewDisposeScope();
            (Tensor y, Tensor u, Tensor z) = SolveChunk(th, draw, start, count);
            ySum?.add_(y.sum([0]));
            maxSum?.add_((y * u).sum(-1).sum([0]));
            vjpSum?.add_(VjpSum(y, z, cotangent!));
        }
        return (ySum?.div_(Samples), maxSum?.div_(Samples), vjpSum?.div_(Samples * Epsilon));
    }

    /// <summary>Σₘ ⟨yₘ, g⟩ ∇ν(Zₘ) over the samples of a chunk, y and z of shape [count, batch, d], g of shape [batch, d].</summary>
    internal Tensor VjpSum(Tensor y, Tensor z, Tensor g)
    {
        Tensor weights = (y * g.unsqueeze(0)).sum(-1, keepdim: true);   // ⟨yₘ, g⟩: [count, batch, 1]
        Tensor score = Noise is GumbelNoise ? 1 - (-z).exp() : z;          // ∇ν(Z)
        return (weights * score).sum([0]);
    }

    /// <summary>Whether a batch of this many rows is solved in one chunk (so its samples can be kept for a backward pass).</summary>
    internal bool SingleChunk(long batch) => ChunkSize(batch) >= Samples;

    /// <summary>Checks that a tensor paired with θ (a cotangent, a target) has θ's shape; returns it as float32 on the device.</summary>
    internal Tensor LikeScores(Tensor value, Tensor th, string name)
    {
        if (!value.shape.SequenceEqual(th.shape))
        {
            throw new ArgumentException($"Expected '{name}' of shape [{string.Join(", ", th.shape)}] like the scores, got [{string.Join(", ", value.shape)}].", name);
        }
        Tensor converted = value.to(ScalarType.Float32).to(Device);
        RequireFinite(converted, name);
        return converted;
    }

    /// <summary>Single-precision batches in and out, for code without tensors (copies to and from the device).</summary>
    /// <exception cref="ArgumentException">A buffer's length is not that of <paramref name="theta"/>'s <c>[batch × d]</c> (the message names it, the expected and the actual length).</exception>
    public void Forward(ReadOnlySpan<float> theta, Span<float> solution, ulong draw = 0)
    {
        int batch = RowsOf(theta.Length);
        LikeTheta(solution.Length, batch, nameof(solution));
        using Tensor t = tensor(theta.ToArray(), [batch, Dimension]);
        (Tensor y, Tensor f) = Forward(t, draw);
        using (y)
        using (f)
        {
            y.cpu().data<float>().CopyTo(solution);
        }
    }

    /// <inheritdoc cref="ForwardVjp(Tensor, Tensor, ulong)"/>
    /// <exception cref="ArgumentException">A buffer's length is not that of <paramref name="theta"/>'s <c>[batch × d]</c> (the message names it, the expected and the actual length).</exception>
    public void ForwardVjp(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
    {
        int batch = RowsOf(theta.Length);
        LikeTheta(cotangent.Length, batch, nameof(cotangent));
        LikeTheta(solution.Length, batch, nameof(solution));
        LikeTheta(vjp.Length, batch, nameof(vjp));
        using Tensor t = tensor(theta.ToArray(), [batch, Dimension]);
        using Tensor g = tensor(cotangent.ToArray(), [batch, Dimension]);
        (Tensor y, Tensor v) = ForwardVjp(t, g, draw);
        using (y)
        using (v)
        {
            y.cpu().data<float>().CopyTo(solution);
            v.cpu().data<float>().CopyTo(vjp);
        }
    }

    private int RowsOf(int length)
    {
        if (length == 0 || length % Dimension != 0)
        {
            throw new ArgumentException($"Expected 'theta' as a non-empty [batch × {Dimension}] buffer (a multiple of {Dimension} values), got {length} values.", "theta");
        }
        return length / Dimension;
    }

    /// <summary>Checks that a buffer paired with θ holds [batch × d] values, naming it.</summary>
    private void LikeTheta(int length, int batch, string name)
    {
        if (length != (long)batch * Dimension)
        {
            throw new ArgumentException($"Expected '{name}' of {(long)batch * Dimension} values ([{batch} × {Dimension}], like theta), got {length}.", name);
        }
    }

    /// <summary>Permutation matrices of the perturbed score matrices, solved on the host by the exact CPU oracle.</summary>
    private Tensor Matching(Tensor u)
    {
        float[] host = u.cpu().data<float>().ToArray();
        var solutions = new float[host.Length];
        _matching!.Solve(host, solutions);
        return tensor(solutions, u.shape).to(Device);
    }

    /// <summary>Indicator of the k largest along the last dimension.</summary>
    private Tensor TopK(Tensor u)
    {
        Tensor indexes = u.topk(K, dim: -1).indexes;
        return zeros_like(u).scatter_(-1, indexes, ones(indexes.shape, ScalarType.Float32, Device));
    }

    /// <summary>Ascending ranks 1..d along the last dimension (ties: stable order), as <c>RankingOracle</c>.</summary>
    private Tensor Ranks(Tensor u)
    {
        Tensor order = u.sort(-1, descending: false, stable: true).Indices;
        Tensor positions = arange(1, Dimension + 1, ScalarType.Float32, Device).expand_as(u);
        return zeros_like(u).scatter_(-1, order, positions);
    }

    /// <summary>Checks θ [batch, d] and returns it as float32 on the device.</summary>
    internal Tensor Prepare(Tensor theta)
    {
        if (theta.dim() != 2 || theta.shape[1] != Dimension || theta.shape[0] == 0)
        {
            throw new ArgumentException($"Expected scores of shape [batch, {Dimension}] with batch ≥ 1, got [{string.Join(", ", theta.shape)}].", nameof(theta));
        }
        Tensor th = theta.to(ScalarType.Float32).to(Device);
        RequireFinite(th, nameof(theta));
        return th;
    }

    /// <summary>Throws naming the first row and column that hold NaN or ±∞, as the core's checks do.</summary>
    internal static void RequireFinite(Tensor values, string name)
    {
        using Tensor bad = values.isfinite().logical_not();
        if (!bad.any().item<bool>()) return;
        using Tensor first = bad.flatten().nonzero()[0];
        long index = first.item<long>(), columns = values.shape[^1];
        float value = values.flatten()[index].cpu().item<float>();
        throw new ArgumentException($"Expected finite values, found {value} at row {index / columns}, column {index % columns}.", name);
    }

    private int ChunkSize(long batch) =>
        _samplesPerChunk > 0 ? Math.Min(_samplesPerChunk, Samples) : (int)Math.Clamp(AutomaticChunkValues / (batch * Dimension), 1, Samples);

    /// <summary>The (first sample, count) of each chunk of the M samples.</summary>
    internal IEnumerable<(int Start, int Count)> Chunks(long batch)
    {
        int size = ChunkSize(batch);
        for (int start = 0; start < Samples; start += size) yield return (start, Math.Min(size, Samples - start));
    }

    /// <summary>
    /// Draws Z for samples [start, start + count) on the device, perturbs θ (float32 on the device) and solves: returns
    /// the solutions, the perturbed scores and Z, each [count, batch, d].
    /// </summary>
    internal (Tensor Y, Tensor U, Tensor Z) SolveChunk(Tensor th, ulong draw, int start, int count)
    {
        long batch = th.shape[0];
        Tensor z = empty([count, batch, Dimension], ScalarType.Float32, Device);
        for (int i = 0; i < count; i++)
        {
            // Sample m from its own generator seeded by (seed, draw, m): equal draws reuse the same noise (common random
            // numbers) and the chunking does not change it.
            using var generator = new Generator(SampleSeed(draw, start + i), Device);
            using Tensor slice = z[i];
            if (Noise is GumbelNoise) slice.uniform_(0, 1, generator);
            else slice.normal_(0, 1, generator);
        }
        if (Noise is GumbelNoise)
        {
            z = -(-z.clamp_min_(1e-12).log_()).log_();   // G = −log(−log U)
        }
        Tensor u = th.unsqueeze(0) + z * Epsilon;
        Tensor y = Head switch
        {
            DeviceKernelKind.Argmax => nn.functional.one_hot(u.argmax(-1), Dimension).to(ScalarType.Float32),
            DeviceKernelKind.TopK => TopK(u),
            DeviceKernelKind.Matching => Matching(u),
            DeviceKernelKind.Ranking => Ranks(u),
            _ => throw new InvalidOperationException($"Unknown head {Head}."),
        };
        return (y, u, z);
    }

    /// <summary>A SplitMix64 finalizer over (seed, draw, sample): distinct, well-mixed generator seeds.</summary>
    private ulong SampleSeed(ulong draw, int sample)
    {
        static ulong Mix(ulong x)
        {
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            return x ^ (x >> 31);
        }
        return Mix(Mix(Mix((uint)Seed + 0x9E3779B97F4A7C15UL) ^ draw) ^ (ulong)sample);
    }
}
