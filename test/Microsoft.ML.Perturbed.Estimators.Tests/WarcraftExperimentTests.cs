using Microsoft.ML.Perturbed.Experiments;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// The Warcraft-style shortest-path experiment (Berthet et al. 2020 §5.3 on generated maps): its map generator is
/// deterministic and consistent, the true costs give the shortest path (checked against an independent Bellman–Ford), its
/// metrics are right on hand-made cases, its softplus model differentiates correctly, and the quick run writes its files.
/// </summary>
public class WarcraftExperimentTests
{
    [Fact]
    public void The_same_seed_gives_the_same_maps_and_a_map_does_not_depend_on_how_many_are_drawn()
    {
        (float[] x1, float[] c1, int[] t1) = WarcraftMaps.Generate(6, 12, seed: 7);
        (float[] x2, float[] c2, int[] t2) = WarcraftMaps.Generate(6, 12, seed: 7);
        Assert.Equal(x1, x2);
        Assert.Equal(c1, c2);
        Assert.Equal(t1, t2);
        // Maps 4 and 5 drawn alone (first = 4) are maps 4 and 5 of the longer draw.
        (float[] x3, float[] c3, _) = WarcraftMaps.Generate(2, 12, seed: 7, first: 4);
        int cells = 144;
        Assert.Equal(x1[(4 * cells * WarcraftMaps.CellFeatures)..], x3);
        Assert.Equal(c1[(4 * cells)..], c3);
        // Another seed, other maps.
        (float[] x4, _, _) = WarcraftMaps.Generate(6, 12, seed: 8);
        Assert.NotEqual(x1, x4);
        // Every cell's cost is its type's, every type appears, the pixels are finite and of the rendered range.
        for (int i = 0; i < c1.Length; i++) Assert.Equal(WarcraftMaps.TypeCosts[t1[i]], c1[i]);
        Assert.Equal(WarcraftMaps.TypeCount, t1.Distinct().Count());
        Assert.All(x1, v => Assert.True(float.IsFinite(v) && Math.Abs(v) < 3, $"pixel {v}"));
    }

    [Fact]
    public void The_generator_refuses_bad_sizes_naming_the_argument()
    {
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => WarcraftMaps.Generate(0, 12, 1)).ParamName);
        Assert.Equal("size", Assert.Throws<ArgumentOutOfRangeException>(() => WarcraftMaps.Generate(1, 1, 1)).ParamName);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(18)]
    public void The_true_costs_give_the_oracles_path_and_it_is_the_cheapest_8_neighbour_path(int size)
    {
        (_, float[] c, _) = WarcraftMaps.Generate(20, size, seed: 3);
        Oracle head = WarcraftExperiment.Head(size);
        int d = size * size;
        var y = new float[c.Length];
        head.Solve(c, y);
        for (int m = 0; m < 20; m++)
        {
            ReadOnlySpan<float> cost = c.AsSpan(m * d, d), path = y.AsSpan(m * d, d);
            double pathCost = 0;
            for (int i = 0; i < d; i++) pathCost += cost[i] * path[i];
            Assert.Equal(BellmanFord(cost, size), pathCost, 1e-9);
            AssertIsPath(path, size);
        }
        // Scored against themselves, the true costs are cost-optimal and the same path on every map, at ratio 1.
        (double optimal, double exact, double ratio) = WarcraftExperiment.Evaluate(head, c, c);
        Assert.Equal((1.0, 1.0, 1.0), (optimal, exact, ratio));
    }

    [Fact]
    public void Evaluate_counts_cost_optimal_paths_apart_from_identical_ones_and_averages_the_cost_ratio()
    {
        // 2 × 2 grid: the path is always cell 0, then 3 (diagonal) — unless a predicted cost makes the detour cheaper.
        Oracle head = WarcraftExperiment.Head(2);
        float[] truth = [1, 5, 5, 1,   1, 5, 5, 1];
        // Map 0 predicted right; map 1 predicted with the diagonal end cell dear, the path still must end there: same path.
        (double optimal, double exact, double ratio) = WarcraftExperiment.Evaluate(head, [1, 5, 5, 1, 1, 5, 5, 9], truth);
        Assert.Equal((1.0, 1.0, 1.0), (optimal, exact, ratio));
        // 3 × 3 grid with two equally cheap routes: a different but cost-optimal path counts as cost-optimal, not as the same.
        head = WarcraftExperiment.Head(3);
        float[] ties = [1, 1, 9, 1, 9, 1, 9, 1, 1];   // 0 → 1 → 5 → 8 and 0 → 3 → 7 → 8 are both 4; the diagonal 0 → 4 → 8 costs 11
        var y = new float[9];
        head.Solve(ties, y);
        float[] other = y[1] == 1 ? [1, 9, 9, 1, 9, 9, 9, 1, 1] : [1, 1, 9, 9, 9, 1, 9, 9, 1];   // steer to the other route
        (optimal, exact, ratio) = WarcraftExperiment.Evaluate(head, other, ties);
        Assert.Equal(1.0, optimal);
        Assert.Equal(0.0, exact);
        Assert.Equal(1.0, ratio, 12);
        // Steered through the dear centre: 0 → 4 → 8 costs 11 against 4.
        (optimal, exact, ratio) = WarcraftExperiment.Evaluate(head, [1, 9, 9, 9, 0.1f, 9, 9, 9, 1], ties);
        Assert.Equal((0.0, 0.0), (optimal, exact));
        Assert.Equal(11.0 / 4, ratio, 12);
    }

    [Fact]
    public void The_cell_error_ignores_the_scale_and_the_sensitivity_falls_as_cost_errors_grow()
    {
        float[] costs = [1, 1];
        Assert.Equal(0, WarcraftExperiment.CellError([3, 3], costs), 12);
        // α = ⟨ĉ, c⟩/⟨ĉ, ĉ⟩ = 4/10; relative errors −0.6 and 0.2: RMS √0.2.
        Assert.Equal(Math.Sqrt(0.2), WarcraftExperiment.CellError([1, 3], costs), 6);

        (_, float[] c, _) = WarcraftMaps.Generate(50, 12, seed: 5);
        var rows = WarcraftExperiment.Sensitivity(WarcraftExperiment.Head(12), c, seed: 1);
        Assert.Equal(WarcraftExperiment.SensitivitySigmas, rows.Select(r => r.Sigma));
        Assert.All(rows, r => Assert.True(r.CostOptimal is >= 0 and <= 1 && r.CostRatio >= 1, $"σ {r.Sigma}: {r.CostOptimal}, {r.CostRatio}"));
        Assert.True(rows[^1].CostOptimal < rows[0].CostOptimal && rows[^1].CostRatio > rows[0].CostRatio);
    }

    [Fact]
    public void The_softplus_model_is_positive_and_its_backward_pass_matches_finite_differences()
    {
        var model = new SoftplusOutputModel(ItemwiseModel.Random(4, 3, [5], 1, 0, seed: 2));
        float[] x = Enumerable.Range(0, 2 * 12).Select(i => (float)Math.Sin(i * 1.3)).ToArray();
        float[] g = Enumerable.Range(0, 8).Select(i => (float)Math.Cos(i * 0.7)).ToArray();
        var scores = new float[8];
        model.Score(x, scores);
        Assert.All(scores, s => Assert.True(s > 0));
        var gradient = new double[model.Parameters.Length];
        model.Backward(x, g, 0, gradient);
        // (1/batch) Σ ⟨g, θ(x)⟩ by central differences in double over the float parameters.
        double Objective()
        {
            var s = new float[8];
            model.Score(x, s);
            double sum = 0;
            for (int i = 0; i < 8; i++) sum += (double)g[i] * s[i];
            return sum / 2;
        }
        for (int k = 0; k < model.Parameters.Length; k++)
        {
            float saved = model.Parameters[k];
            const float h = 1e-2f;
            model.Parameters[k] = saved + h;
            double up = Objective();
            model.Parameters[k] = saved - h;
            double down = Objective();
            model.Parameters[k] = saved;
            Assert.True(Math.Abs((up - down) / (2 * h) - gradient[k]) < 2e-3, $"parameter {k}: {(up - down) / (2 * h)} against {gradient[k]}");
        }
        Assert.Equal(SoftplusOutputModel.Floor, SoftplusOutputModel.Softplus(-200));
        Assert.Equal(200f, SoftplusOutputModel.Softplus(200));
        Assert.Equal(Math.Log(2), SoftplusOutputModel.Softplus(0), 6);
    }

    [Fact]
    public void Quick_run_writes_its_table_and_figures_with_metrics_in_range()
    {
        string dir = Path.Combine(Path.GetTempPath(), "perturbed-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            IReadOnlyList<WarcraftCurve> curves = WarcraftExperiment.Run(quick: true, dir, TextWriter.Null);
            WarcraftExperiment.Settings s = WarcraftExperiment.Settings.Quick;
            Assert.Equal(WarcraftExperiment.Methods.Select(m => m.Name), curves.Select(c => c.Method));
            foreach (WarcraftCurve c in curves)
            {
                Assert.Equal(s.Epochs, c.CostOptimal.Length);
                Assert.Equal(s.Epochs, c.CostRatio.Length);
                for (int e = 0; e < s.Epochs; e++)
                {
                    Assert.InRange(c.CostOptimal[e], 0, 1);
                    Assert.InRange(c.ExactPath[e], 0, c.CostOptimal[e]);   // the labelled path is cost-optimal
                    Assert.True(c.CostRatio[e] >= 1 && double.IsFinite(c.CostRatio[e]), $"{c.Method}: ratio {c.CostRatio[e]}");
                }
            }
            string table = File.ReadAllText(Path.Combine(dir, "warcraft-quick.md"));
            Assert.Matches(@"Produced by `dotnet run [^`]+ -- warcraft --quick` at commit [0-9a-f]{7}", table);
            foreach ((string name, _, _) in WarcraftExperiment.Methods) Assert.Contains(name, table);
            Assert.Contains("diagnostic: type classifier", table);
            foreach (string figure in new[] { "warcraft_optimal-quick.png", "warcraft_ratio-quick.png" })
            {
                Assert.Contains(figure, table);
                Assert.True(new FileInfo(Path.Combine(dir, figure)).Length > 1000);
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    // The cheapest top-left → bottom-right vertex-cost path over 8 neighbours, both ends counted, by Bellman–Ford relaxation.
    private static double BellmanFord(ReadOnlySpan<float> cost, int size)
    {
        int d = size * size;
        var dist = new double[d];
        Array.Fill(dist, double.PositiveInfinity);
        dist[0] = cost[0];
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int v = 0; v < d; v++)
            {
                if (double.IsInfinity(dist[v])) continue;
                foreach (int u in Neighbours(v, size))
                {
                    if (dist[v] + cost[u] < dist[u] - 1e-12)
                    {
                        dist[u] = dist[v] + cost[u];
                        changed = true;
                    }
                }
            }
        }
        return dist[d - 1];
    }

    private static IEnumerable<int> Neighbours(int v, int size)
    {
        int r = v / size, c = v % size;
        for (int dr = -1; dr <= 1; dr++)
        for (int dc = -1; dc <= 1; dc++)
        {
            int nr = r + dr, nc = c + dc;
            if ((dr != 0 || dc != 0) && nr >= 0 && nr < size && nc >= 0 && nc < size) yield return nr * size + nc;
        }
    }

    // A 0/1 vector that holds both corners and whose cells form one 8-connected chain between them (every inner cell has
    // exactly two path neighbours would be too strict: a shortest path may touch itself diagonally; connectivity suffices).
    private static void AssertIsPath(ReadOnlySpan<float> path, int size)
    {
        int d = size * size;
        Assert.Equal(1f, path[0]);
        Assert.Equal(1f, path[d - 1]);
        var on = new HashSet<int>();
        for (int i = 0; i < d; i++)
        {
            Assert.True(path[i] is 0 or 1);
            if (path[i] == 1) on.Add(i);
        }
        var seen = new HashSet<int> { 0 };
        var queue = new Queue<int>([0]);
        while (queue.TryDequeue(out int v))
        {
            foreach (int u in Neighbours(v, size))
            {
                if (on.Contains(u) && seen.Add(u)) queue.Enqueue(u);
            }
        }
        Assert.Equal(on.Count, seen.Count);
    }
}
