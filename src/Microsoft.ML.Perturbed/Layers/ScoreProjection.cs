namespace Microsoft.ML.Perturbed.Layers;

/// <summary>Which projections (Sahoo et al. 2023, §3.4–3.5) run on the scores before a solver layer.</summary>
public enum ScoreProjection
{
    /// <summary>No projection.</summary>
    None = 0,

    /// <summary>P_plane: subtract the row mean (heads whose solutions all have one sum: argmax, top-k, ranking).</summary>
    Plane = 1,

    /// <summary>P_sphere: divide by the row's norm.</summary>
    Sphere = 2,

    /// <summary>P_sphere ∘ P_plane: centre, then normalize (the paper's choice for ranking and top-k).</summary>
    PlaneThenSphere = 3,
}
