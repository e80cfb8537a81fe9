namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// Generated Warcraft-style terrain maps (after the Warcraft II maps of Vlastelica et al. 2020, used by Berthet et al. 2020
/// §5.3 and Sahoo et al. 2023): a k × k grid of cells, each of one of <see cref="TypeCount"/> tile types with a hidden cost
/// (<see cref="TypeCosts"/>, 0.8 … 9.2 as Warcraft's cost range), rendered as an 8 × 8 RGB patch (the Warcraft maps' 96 × 96
/// pixels for 12 × 12 cells): the type's colour under the map's lighting, a striped texture of the type's orientation and
/// frequency at a random phase, the outer ring of pixels blended with the neighbouring cells' colours, and pixel noise.
/// Types follow a smooth random field (a sum of five low-frequency waves, cut at its per-map sextiles so that every type
/// covers about a sixth of the map) with 8 % of cells redrawn uniformly (isolated tiles). Map i comes from its own
/// <see cref="System.Random"/> seeded by (seed, i), so a map does not depend on how many maps are drawn.
/// </summary>
public static class WarcraftMaps
{
    /// <summary>Pixels per cell side.</summary>
    public const int Patch = 8;

    /// <summary>Features per cell: <see cref="Patch"/>² pixels × 3 channels, channel-last (r, g, b of pixel 0, then pixel 1, …).</summary>
    public const int CellFeatures = Patch * Patch * 3;

    /// <summary>Number of tile types.</summary>
    public const int TypeCount = 6;

    /// <summary>The hidden cost of each tile type (grass, road, forest, swamp, rock, water).</summary>
    public static readonly float[] TypeCosts = [0.8f, 1.2f, 2.5f, 5.3f, 7.7f, 9.2f];

    // Base colour of each type (RGB in [0, 1]); forest and swamp, rock and road are close, told apart by texture and shade.
    private static readonly float[][] Colours =
    [
        [0.42f, 0.70f, 0.30f], [0.72f, 0.64f, 0.46f], [0.22f, 0.46f, 0.24f],
        [0.30f, 0.42f, 0.30f], [0.58f, 0.55f, 0.50f], [0.18f, 0.32f, 0.66f],
    ];

    // Texture of each type: stripe angle (radians) and spatial frequency (cycles per pixel).
    private static readonly (double Angle, double Frequency)[] Textures =
        [(0.3, 0.12), (1.57, 0.06), (0.8, 0.30), (2.4, 0.22), (1.2, 0.40), (0.0, 0.18)];

    /// <summary>Share of cells whose type is redrawn uniformly after the field assigns types.</summary>
    public const double SpeckShare = 0.08;

    /// <summary>Standard deviation of the pixel noise.</summary>
    public const double PixelNoise = 0.08;

    /// <summary>
    /// Draws <paramref name="count"/> maps of <paramref name="size"/> × <paramref name="size"/> cells.
    /// </summary>
    /// <param name="count">Number of maps (≥ 1).</param>
    /// <param name="size">Cells per side (≥ 2).</param>
    /// <param name="seed">The data seed.</param>
    /// <param name="first">Index of the first map (maps <paramref name="first"/> … first + count − 1 of the seed's sequence).</param>
    /// <returns>
    /// Pixels <c>[count × size² × CellFeatures]</c> (cell-major, row-major cells; values centred: 2·(rgb − 0.5)), true costs
    /// <c>[count × size²]</c> and tile types <c>[count × size²]</c>.
    /// </returns>
    public static (float[] Pixels, float[] Costs, int[] Types) Generate(int count, int size, int seed, int first = 0)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "At least one map.");
        if (size < 2) throw new ArgumentOutOfRangeException(nameof(size), size, "A map has at least 2 × 2 cells.");
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        int cells = size * size;
        var pixels = new float[(long)count * cells * CellFeatures];
        var costs = new float[count * cells];
        var types = new int[count * cells];
        for (int m = 0; m < count; m++)
        {
            var random = new System.Random(unchecked(seed * 1_000_003 + first + m));
            Span<int> type = types.AsSpan(m * cells, cells);
            Terrain(random, size, type);
            for (int i = 0; i < cells; i++) costs[m * cells + i] = TypeCosts[type[i]];
            Render(random, size, type, pixels.AsSpan(m * cells * CellFeatures, cells * CellFeatures));
        }
        return (pixels, costs, types);
    }

    private static void Terrain(System.Random random, int size, Span<int> type)
    {
        const int waves = 5;
        Span<double> a = stackalloc double[waves], u = stackalloc double[waves], v = stackalloc double[waves], phase = stackalloc double[waves];
        for (int k = 0; k < waves; k++)
        {
            a[k] = 0.5 + 0.5 * random.NextDouble();
            u[k] = 3 * random.NextDouble() - 1.5;
            v[k] = 3 * random.NextDouble() - 1.5;
            phase[k] = 2 * Math.PI * random.NextDouble();
        }
        int cells = size * size;
        var field = new double[cells];
        for (int r = 0; r < size; r++)
        for (int c = 0; c < size; c++)
        {
            double f = 0;
            for (int k = 0; k < waves; k++) f += a[k] * Math.Cos(2 * Math.PI * (u[k] * r + v[k] * c) / size + phase[k]);
            field[r * size + c] = f;
        }
        // Cut at the map's sextiles: the cell of rank q (ties by index) gets type ⌊6q / cells⌋.
        int[] order = Enumerable.Range(0, cells).ToArray();
        Array.Sort(order, (i, j) => field[i] != field[j] ? field[i].CompareTo(field[j]) : i.CompareTo(j));
        for (int q = 0; q < cells; q++) type[order[q]] = q * TypeCount / cells;
        for (int i = 0; i < cells; i++)
        {
            if (random.NextDouble() < SpeckShare) type[i] = random.Next(TypeCount);
        }
    }

    private static void Render(System.Random random, int size, ReadOnlySpan<int> type, Span<float> pixels)
    {
        // The map's lighting: a brightness and a small tint per channel.
        double brightness = 0.8 + 0.4 * random.NextDouble();
        Span<double> tint = stackalloc double[3];
        for (int ch = 0; ch < 3; ch++) tint[ch] = 0.1 * random.NextDouble() - 0.05;
        Span<float> colour = stackalloc float[3];
        for (int r = 0; r < size; r++)
        for (int c = 0; c < size; c++)
        {
            int cell = r * size + c, t = type[cell];
            (double angle, double frequency) = Textures[t];
            double phase = 2 * Math.PI * random.NextDouble(), cos = Math.Cos(angle), sin = Math.Sin(angle);
            Span<float> patch = pixels.Slice(cell * CellFeatures, CellFeatures);
            for (int py = 0; py < Patch; py++)
            for (int px = 0; px < Patch; px++)
            {
                Colours[t].CopyTo(colour);
                // The outer ring mixes half-and-half with the neighbour across the edge (both neighbours' mean at a corner).
                int dr = py == 0 ? -1 : py == Patch - 1 ? 1 : 0, dc = px == 0 ? -1 : px == Patch - 1 ? 1 : 0;
                Blend(colour, type, size, r, c, dr, dc);
                double stripe = 0.12 * Math.Sin(2 * Math.PI * frequency * (px * cos + py * sin) + phase);
                for (int ch = 0; ch < 3; ch++)
                {
                    double value = brightness * colour[ch] + tint[ch] + stripe + PixelNoise * Normal(random);
                    patch[(py * Patch + px) * 3 + ch] = (float)(2 * (value - 0.5));
                }
            }
        }
    }

    private static void Blend(Span<float> colour, ReadOnlySpan<int> type, int size, int r, int c, int dr, int dc)
    {
        Span<float> neighbour = stackalloc float[3];
        int found = 0;
        neighbour.Clear();
        if (dr != 0 && r + dr >= 0 && r + dr < size)
        {
            for (int ch = 0; ch < 3; ch++) neighbour[ch] += Colours[type[(r + dr) * size + c]][ch];
            found++;
        }
        if (dc != 0 && c + dc >= 0 && c + dc < size)
        {
            for (int ch = 0; ch < 3; ch++) neighbour[ch] += Colours[type[r * size + c + dc]][ch];
            found++;
        }
        if (found == 0) return;
        for (int ch = 0; ch < 3; ch++) colour[ch] = 0.5f * colour[ch] + 0.5f * neighbour[ch] / found;
    }

    private static double Normal(System.Random random)
    {
        double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
