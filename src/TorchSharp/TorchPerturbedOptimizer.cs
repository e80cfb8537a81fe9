using Microsoft.ML.Perturbed.Noise;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Perturbed.TorchSharp;

/// <summary>
/// The perturbed optimizer of the core (Berthet et al. 2020) with the whole M × batch × d perturbation batch on a
/// TorchSharp device: noise drawn on the device from a seeded generator, the head solved on the device (argmax, top-k,
/// ranking), and ŷ_ε, F̂_ε and the VJP (1/(Mε)) Σ ⟨yₘ, g⟩ ∇ν(Zₘ) from the same samples. The formulas and conventions are
/// the core's, so results agree with <see cref="PerturbedOptimizer"/> within Monte-Carlo error (not bit for bit: the
/// noise streams differ).
/// </summary>
public sealed class TorchPerturbedOptimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="head">The head.</param>
    /// <param name="dimension">Scores per row d.</param>
    /// <param name="options">ε, M, noise (normal or Gumbel), seed; additive perturbation.</param>
    /// <param name="device">Where to run; default the CPU.</param>
    /// <param name="k">k for <see cref="TorchHeadKind.TopK"/>.</param>
    public TorchPerturbedOptimizer(TorchHeadKind head, int dimension, PerturbedOptimizerOptions options, Device? device = null, int k = 1)
    {
        ArgumentNullException.ThrowIfNull(options);
        LibTorchRuntime.EnsureLoaded();
        if (!Enum.IsDefined(head)) throw new ArgumentOutOfRangeException(nameof(head), head, "Unknown head.");
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "'dimension' must be at least 1.");
        if (head == TorchHeadKind.TopK && (k < 1 || k > dimension)) throw new ArgumentOutOfRangeException(nameof(k), k, $"'k' must be in [1, {dimension}].");
        if (head == TorchHeadKind.Matching)
        {
            int n = (int)Math.Round(Math.Sqrt(dimension));
            if (n * n != dimension) throw new ArgumentException($"The matching head needs n² scores per row (a square matrix), got {dimension}.", nameof(dimension));
            _matching = new Oracles.MatchingOracle(n);
        }
        if (!(options.Epsilon > 0) || !double.IsFinite(options.Epsilon)) throw new ArgumentOutOfRangeException(nameof(options), options.Epsilon, "'Epsilon' must be a finite number greater than 0.");
        if (options.Samples < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Samples, "'Samples' (M) must be at least 1.");
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
    public TorchHeadKind Head { get; }

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

    /// <summary>ŷ_ε(θ) and F̂_ε(θ) for θ of shape [batch, d] (on any device; computed on <see cref="Device"/>).</summary>
    public (Tensor Solution, Tensor PerturbedMax) Forward(Tensor theta, ulong draw = 0)
    {
        using var scope = NewDisposeScope();
        (Tensor y, Tensor u, _) = Solve(theta, draw);
        Tensor solution = y.mean([0]);
        Tensor max = (y * u).sum(-1).mean([0]);
        return (solution.MoveToOuterDisposeScope(), max.MoveToOuterDisposeScope());
    }

    /// <summary>ŷ_ε(θ) and the VJP Jᵀg = (1/(Mε)) Σₘ ⟨yₘ, g⟩ ∇ν(Zₘ) from the same samples; θ and g of shape [batch, d].</summary>
    public (Tensor Solution, Tensor Vjp) ForwardVjp(Tensor theta, Tensor cotangent, ulong draw = 0)
    {
        using var scope = NewDisposeScope();
        (Tensor y, _, Tensor z) = Solve(theta, draw);
        Tensor g = cotangent.to(ScalarType.Float32).to(Device);
        Tensor vjp = Vjp(y, z, g);
        return (y.mean([0]).MoveToOuterDisposeScope(), vjp.MoveToOuterDisposeScope());
    }

    /// <summary>Jᵀg = (1/(Mε)) Σₘ ⟨yₘ, g⟩ ∇ν(Zₘ) for samples y, z of shape [M, batch, d] and g of shape [batch, d].</summary>
    internal Tensor Vjp(Tensor y, Tensor z, Tensor g)
    {
        Tensor weights = (y * g.unsqueeze(0)).sum(-1, keepdim: true);   // ⟨yₘ, g⟩: [M, batch, 1]
        Tensor score = Noise is GumbelNoise ? 1 - (-z).exp() : z;          // ∇ν(Z)
        return (weights * score).mean([0]) / Epsilon;
    }

    /// <summary>Single-precision batches in and out, for code without tensors (copies to and from the device).</summary>
    public void Forward(ReadOnlySpan<float> theta, Span<float> solution, ulong draw = 0)
    {
        int batch = RowsOf(theta.Length);
        using Tensor t = tensor(theta.ToArray(), [batch, Dimension]);
        (Tensor y, Tensor f) = Forward(t, draw);
        using (y)
        using (f)
        {
            y.cpu().data<float>().CopyTo(solution);
        }
    }

    /// <inheritdoc cref="ForwardVjp(Tensor, Tensor, ulong)"/>
    public void ForwardVjp(ReadOnlySpan<float> theta, ReadOnlySpan<float> cotangent, Span<float> solution, Span<float> vjp, ulong draw = 0)
    {
        int batch = RowsOf(theta.Length);
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
            throw new ArgumentException($"Expected a non-empty [batch × {Dimension}] buffer, got {length} values.", "theta");
        }
        return length / Dimension;
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

    /// <summary>Draws Z [M, batch, d] on the device, perturbs and solves: returns the solutions, the perturbed scores and Z.</summary>
    internal (Tensor Y, Tensor U, Tensor Z) Solve(Tensor theta, ulong draw)
    {
        if (theta.dim() != 2 || theta.shape[1] != Dimension)
        {
            throw new ArgumentException($"Expected scores of shape [batch, {Dimension}], got [{string.Join(", ", theta.shape)}].", nameof(theta));
        }
        Tensor th = theta.to(ScalarType.Float32).to(Device);
        if (!th.isfinite().all().item<bool>())
        {
            throw new ArgumentException("Expected finite scores, found NaN or infinity.", nameof(theta));
        }
        long batch = th.shape[0];
        // One generator per call, seeded from (seed, draw): equal draws reuse the same noise (common random numbers).
        using var generator = new Generator((ulong)(uint)Seed * 0x9E3779B97F4A7C15UL ^ draw, Device);
        long[] shape = [Samples, batch, Dimension];
        Tensor z = Noise is GumbelNoise
            ? -(-rand(shape, ScalarType.Float32, Device, generator: generator).clamp_min(1e-12).log()).log()
            : randn(shape, ScalarType.Float32, Device, generator: generator);
        Tensor u = th.unsqueeze(0) + z * Epsilon;
        Tensor y = Head switch
        {
            TorchHeadKind.Argmax => nn.functional.one_hot(u.argmax(-1), Dimension).to(ScalarType.Float32),
            TorchHeadKind.TopK => TopK(u),
            TorchHeadKind.Matching => Matching(u),
            _ => Ranks(u),
        };
        return (y, u, z);
    }
}
