namespace Microsoft.ML.Perturbed.Losses;

/// <summary>
/// The built-in losses a structured trainer minimizes over scores θ = g_w(x) for targets y. Each is described once, by
/// its <see cref="LossDescriptor"/> in <see cref="StructuredLosses"/> (targets, defaults, factory); a user's own loss is
/// set with <see cref="Training.StructuredTrainerOptions.LossFactory"/> instead. The values are written into saved options and
/// models: never renumber them.
/// </summary>
public enum StructuredLossKind
{
    /// <summary>Perturbed Fenchel-Young loss (Berthet et al. 2020): gradient ŷ_ε(θ) − y, convex in θ (default).</summary>
    FenchelYoung = 0,

    /// <summary>½‖y − ŷ_ε(θ)‖², back-propagated through the perturbed optimizer's VJP.</summary>
    PerturbedSquared = 1,

    /// <summary>½‖y − θ‖² on the scores themselves (the papers' simplest baseline; no solver in training).</summary>
    SquaredScores = 2,

    /// <summary>
    /// ½‖y − y*(P θ)‖² through blackbox interpolation (Vlastelica et al. 2020): gradient J_Pᵀ (y*(Pθ) − y*(Pθ − λg))/λ,
    /// one extra solve per row, after the projections P of <see cref="StructuredLossOptions.Projection"/>.
    /// </summary>
    Blackbox = 3,

    /// <summary>½‖y − y*(P θ)‖² through identity with projection (Sahoo et al. 2023): gradient J_Pᵀ (ŷ − y).</summary>
    IdentityWithProjection = 4,

    /// <summary>
    /// SPO+ (Elmachtoub &amp; Grigas 2022) for targets that are the true scores s (maximization form of true costs
    /// c = −s): gradient 2(y*(2θ − s) − y*(s)).
    /// </summary>
    SpoPlus = 5,

    /// <summary>
    /// Direct loss minimization with a learned noise scale (Cohen Indelman &amp; Hazan 2021): the model gives d scores μ
    /// and one more output per row, the noise scale σ = softplus(·); the task loss is the head's linear loss
    /// (<see cref="Oracles.Oracle.LinearTaskLoss"/>, through <see cref="LinearLosses.For"/>).
    /// </summary>
    DirectLoss = 6,

    /// <summary>
    /// Implicit maximum-likelihood estimation, I-MLE (Niepert et al. 2021; PyEPO's <c>implicitMLE</c>): the task loss
    /// (<see cref="StructuredLossOptions.TaskLoss"/>; default squared, ½‖ŷ − y‖²) of the perturbed mean
    /// ŷ = (1/M) Σ y*(θ + σεₘ) under Sum-of-Gamma noise SoG(κ = 5, s = 10, τ = 1), back-propagated through the same εₘ
    /// at a target θ′ for the upstream gradient g: for a maximizer θ′ = θ − λg and ∇ = (1/M) Σ [y*(θ + σεₘ) − y*(θ′ + σεₘ)]/λ,
    /// for a cost head (PyEPO's form) c′ = c + λg and ∇ = (1/M) Σ [y*(c′ + σεₘ) − y*(c + σεₘ)]/λ; one extra solve per
    /// sample. σ is
    /// <see cref="PerturbedOptimizerOptions.Epsilon"/> (default 1, as PyEPO), M <see cref="PerturbedOptimizerOptions.Samples"/>
    /// (default 10, as PyEPO), λ <see cref="StructuredLossOptions.BlackboxLambda"/> (default 0.1; the same interpolation step
    /// as blackbox's, in the units of θ: no projection). Noise, Perturbation, VarianceReduction, Projection and Margin are
    /// not read.
    /// </summary>
    ImplicitMle = 7,

    /// <summary>
    /// Soft top-k loss (Cuturi, Teboul &amp; Vert 2019, §5): Σᵢ yᵢ J_k(d − R̃_ε(θ)ᵢ) with R̃_ε the soft ranks of the d scores
    /// (the best scored gets d: ascending for a maximizing head, descending for a cost head) and J_k(u) = max(0, u − k + 1);
    /// for a one-hot target (a class label l) it is J_k(d − R̃_l), a smooth proxy of the top-k error 1[l is not among the k
    /// best], which it bounds from above at ε → 0 (there it counts the classes beyond the k − 1 allowed that outrank l).
    /// Gradient: the exact VJP of the soft ranks (Sinkhorn unrolled, or the permutahedron projection's). Reads
    /// <see cref="StructuredLossOptions.SoftTopK"/> (k, default 1), <see cref="StructuredLossOptions.SoftRankMethod"/> (default
    /// Sinkhorn, as the paper) and <see cref="PerturbedOptimizerOptions.Epsilon"/> as the soft ranks' ε (the paper: Sinkhorn,
    /// ε = 1e-3, k = 1); Noise, Samples, Perturbation and VarianceReduction are not read. Initial weights 0.01 (Sinkhorn
    /// standardizes each row, which a constant row leaves undefined).
    /// </summary>
    SoftTopK = 8,

    /// <summary>
    /// Noise-contrastive estimation over a pool of solutions (Mulamba et al. 2021; PyEPO's <c>NCE</c>), for targets that are
    /// the true solutions w*: ℓ = (1/|Γ|) Σ_{w∈Γ} (⟨θ, w⟩ − ⟨θ, w*⟩) for a maximizing head, (1/|Γ|) Σ (⟨θ, w*⟩ − ⟨θ, w⟩) for a
    /// cost head, gradient ±(mean_Γ w − w*). The pool Γ holds the training targets' solutions and the solutions the oracle
    /// returns on the model's scores at a share <see cref="StructuredLossOptions.SolveRatio"/> of the steps (default 1:
    /// every step), deduplicated; a row's own w* counts when it is not in Γ. The solutions found at a step join the pool at
    /// the next step. Reads <see cref="StructuredLossOptions.SolveRatio"/> and <see cref="PerturbedOptimizerOptions.Seed"/>
    /// (the steps' coins); no noise.
    /// </summary>
    NoiseContrastive = 9,

    /// <summary>
    /// Contrastive MAP over a pool of solutions (Mulamba et al. 2021; PyEPO's <c>contrastiveMAP</c>), targets the true
    /// solutions w*: ℓ = max_{w∈Γ} ⟨θ, w⟩ − ⟨θ, w*⟩ for a maximizing head, ⟨θ, w*⟩ − min_{w∈Γ} ⟨θ, w⟩ for a cost head (≥ 0;
    /// the best pool solution under θ contrasted with w*). Pool and settings as <see cref="NoiseContrastive"/>.
    /// </summary>
    ContrastiveMap = 10,

    /// <summary>
    /// Pointwise learning to rank over a pool of solutions (Mandi et al. 2022; PyEPO's <c>pointwiseLTR</c>), for targets that
    /// are the true costs (scores) t, like <see cref="SpoPlus"/>: ℓ = (1/|Γ|) Σ_{w∈Γ} (⟨t, w⟩ − ⟨θ, w⟩)². The pool is seeded with
    /// the solutions of the training targets (solved once per row). Pool and settings as <see cref="NoiseContrastive"/>.
    /// </summary>
    PointwiseRanking = 11,

    /// <summary>
    /// Pairwise learning to rank over a pool of solutions (Mandi et al. 2022; PyEPO's <c>pairwiseLTR</c>), targets the true
    /// costs (scores) t: with b the pool's best solution under t, ℓ = Σ_{w≠b} relu(⟨θ, w⟩ − ⟨θ, b⟩)/(|Γ| − 1) for a maximizing
    /// head, relu(⟨θ, b⟩ − ⟨θ, w⟩) for a cost head. Its gradient vanishes at θ = 0, so the default initial weight scale is
    /// 0.01. Pool and settings as <see cref="NoiseContrastive"/>.
    /// </summary>
    PairwiseRanking = 12,

    /// <summary>
    /// Listwise learning to rank over a pool of solutions (Mandi et al. 2022; PyEPO's <c>listwiseLTR</c>), targets the true
    /// costs (scores) t: the cross-entropy −Σ_{w∈Γ} softmax(s⟨t, ·⟩)_w log softmax(s⟨θ, ·⟩)_w over the pool, s = 1 for a
    /// maximizing head and −1 for a cost head. Pool and settings as <see cref="NoiseContrastive"/>.
    /// </summary>
    ListwiseRanking = 13,
}
