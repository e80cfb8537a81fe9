namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>The table and figures of <see cref="GlobeTspExperiment"/>.</summary>
public static class GlobeTspReport
{
    /// <summary>The markdown table of the cells, with the protocol and what it stands in for.</summary>
    public static string Table(IReadOnlyList<GlobeTspCell> cells, int seeds, int epochs, int train, int tests, bool quick)
    {
        var w = new StringWriter();
        w.WriteLine("# Globe-TSP analogue: tours from learned embeddings (Sahoo et al. 2023, Tables 1 and 5, Figs. 3–4)" + (quick ? " (quick smoke run)" : ""));
        w.WriteLine();
        w.WriteLine(Report.ProducedBy("globetsp" + (quick ? " --quick" : "") + (quick || (seeds == 3 && epochs == 30 && train == 2000) ? "" : $" --seeds {seeds} --epochs {epochs} --train {train}")));
        w.WriteLine();
        w.WriteLine($"A world of {GlobeTspExperiment.Countries} countries, each a hidden point on the unit sphere and a \"flag\" of {GlobeTspExperiment.FlagFeatures} features, a noisy");
        w.WriteLine("nonlinear function of the point (tanh of a random affine map, plus noise). An instance is k distinct countries; its label is");
        w.WriteLine("the exact optimal tour under the true chord distances (Held–Karp, `Oracle.TravelingSalesman`). One MLP shared by the countries");
        w.WriteLine($"({GlobeTspExperiment.FlagFeatures} → {GlobeTspExperiment.Hidden} → 3, ReLU) maps each flag to a point; the k(k − 1)/2 distances between the predicted points are");
        w.WriteLine("the TSP head's costs; only tours are supervised. Adam, learning rate " + $"{GlobeTspExperiment.LearningRate:G}, batch 32, {epochs} epochs, {train} training tours,");
        w.WriteLine($"{tests} test tours of unseen subsets, mean ± std over {seeds} seed(s) (subsets, initialization, noise). Settings: Fenchel-Young");
        w.WriteLine($"ε {GlobeTspExperiment.FyEpsilon} (additive normal noise on the costs), M 10; blackbox λ {GlobeTspExperiment.BlackboxLambda} after the library's default projections");
        w.WriteLine($"(plane then sphere), linear task loss; identity: squared task loss, margin α {GlobeTspExperiment.Margin} (±α/2 per cost, before the projections) and");
        w.WriteLine("projections plane then sphere, or without either (the ablation). Accuracy: the predicted tour is the optimal one (same edge");
        w.WriteLine("set: the same cycle, either direction). Suboptimality: true length of the predicted tour / optimal − 1. Cost scale: the mean");
        w.WriteLine("predicted distance and its coefficient of variation within a tour; a collapse shows as either going to 0. The rows in");
        w.WriteLine("brackets are references on the test tours of seed 1: the true distances (their scale and spread) and the untrained");
        w.WriteLine("network (chance level, and the scale training starts from).");
        w.WriteLine();
        int[] sizes = cells.Select(c => c.Cities).Distinct().ToArray();
        w.WriteLine($"| method | {string.Join(" | ", sizes.Select(k => $"k = {k}: accuracy | suboptimality | mean cost (CV) | s/run"))} |");
        w.WriteLine($"|---|{string.Concat(sizes.Select(_ => "---|---|---|---|"))}");
        foreach (string method in cells.Select(c => c.Method).Distinct())
        {
            bool reference = method.StartsWith('(');
            var parts = sizes.Select(k => cells.FirstOrDefault(c => c.Cities == k && c.Method == method) is { } c
                ? reference
                    ? $"{c.Accuracy:P1} | {c.Suboptimality:P2} | {c.MeanCost:G3} ({c.CostSpread:F2}) | –"
                    : $"{c.Accuracy:P1} ± {c.AccuracyStd:P1} | {c.Suboptimality:P2} ± {c.SuboptimalityStd:P2} | {c.MeanCost:G3} ± {c.MeanCostStd:G2} ({c.CostSpread:F2}) | {c.Seconds:F0}"
                : "– | – | – | –");
            w.WriteLine($"| {method} | {string.Join(" | ", parts)} |");
        }
        w.WriteLine();
        w.WriteLine("What it stands in for, and how it differs. Sahoo et al. (2023) train on Globe-TSP (100 countries, flag images, a");
        w.WriteLine("ResNet-style network to 3-D coordinates, k = 5 … 40, Gurobi as the solver) and report test tour accuracy of identity with");
        w.WriteLine("projection against blackbox (their Table 1; Table 5 and Figs. 3–4 the noise/margin ablation and the cost collapse without it).");
        w.WriteLine("Those published numbers could not be read from the sources available to this run (the reference search found the paper's");
        w.WriteLine("title but not its tables), so none is printed here; no number in this file is the paper's. Differences: synthetic flag");
        w.WriteLine("features instead of images (a 16-feature nonlinear code of the location, 64-unit MLP), chord instead of great-circle");
        w.WriteLine("distances (so a perfect embedding gives the true tours exactly), the exact Held–Karp solver instead of Gurobi, k = 5 and 10");
        w.WriteLine("only, fewer training tours and epochs, Fenchel-Young added (not in their table).");
        return w.ToString();
    }

    /// <summary>Tour accuracy per method against k, and the predicted costs' scale per method (bars over k).</summary>
    public static void Figures(IReadOnlyList<GlobeTspCell> cells, string outDir, string suffix)
    {
        string[] methods = cells.Select(c => c.Method).Where(m => !m.StartsWith('(')).Distinct().ToArray();
        Report.Figure(Path.Combine(outDir, $"globe_tsp_accuracy{suffix}.png"), "Globe-TSP analogue: exact tour accuracy on unseen subsets (± std over seeds)",
            "tour size k", "tour accuracy", methods.Select(m =>
            {
                GlobeTspCell[] line = cells.Where(c => c.Method == m).OrderBy(c => c.Cities).ToArray();
                return new Series(m, line.Select(c => (double)c.Cities).ToArray(), line.Select(c => c.Accuracy).ToArray(), line.Select(c => c.AccuracyStd).ToArray());
            }));
        methods = cells.Select(c => c.Method).Distinct().ToArray();   // the costs' figure shows the references too
        double[] positions = methods.Select((_, i) => (double)i).ToArray();
        Report.Figure(Path.Combine(outDir, $"globe_tsp_costs{suffix}.png"), "Globe-TSP analogue: scale of the predicted costs (mean distance, ± std over seeds)",
            "method (id: identity, P: projection, M: margin)", "mean predicted distance", cells.Select(c => c.Cities).Distinct().Select(k =>
            {
                GlobeTspCell[] line = methods.Select(m => cells.First(c => c.Cities == k && c.Method == m)).ToArray();
                return new Series($"k = {k}", positions, line.Select(c => c.MeanCost).ToArray(), line.Select(c => c.MeanCostStd).ToArray());
            }), (positions, methods.Select(Short).ToArray()));
    }

    /// <summary>A tick label short enough for the categorical axis (the legend and the table keep the full names).</summary>
    private static string Short(string method) => method switch
    {
        GlobeTspExperiment.TrueCosts => "true",
        GlobeTspExperiment.Untrained => "untrained",
        "Fenchel-Young" => "FY",
        "identity + projection + margin" => "id+P+M",
        "identity + projection" => "id+P",
        "identity + margin" => "id+M",
        "identity (neither)" => "id",
        "blackbox" => "blackbox",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "No short label for this method."),
    };
}
