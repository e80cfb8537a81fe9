using System.Diagnostics;
using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// Sorting 4-digit numbers (Grover et al. 2019's large-MNIST task; the numbers of Cuturi, Teboul &amp; Vert 2019 that Vert's
/// slides quote in their Table 1), with the 8 × 8 optdigits images instead of MNIST. A number is four images side by side
/// (4 × 64 pixels scaled to [0, 1]) whose value is the 4-digit integer they show; a sequence is n numbers with distinct
/// values; its target is the ascending ranks of the values (the largest gets n, <see cref="RankingOracle"/>'s convention).
/// The images are split once (seeded, the classification experiment's 3823 / 1797 split): training sequences draw their
/// images from the first part, test sequences from the second, so no image is in both. The score of a number is
/// Σ_d a_d f(image_d) (<see cref="PlaceValueModel"/>): one digit network f (64 pixels → 64 ReLU → 1) shared by the four places
/// and by the numbers of a sequence (<see cref="ItemwiseModel"/>), and four learned place weights a_d that start equal, so the
/// place order is learned, not given. Sorting layers compared: the permutahedron soft ranks (<see cref="SoftRanking.CreateRank"/>, L2,
/// ε = 1) and Sinkhorn's soft ranks (ε = 0.01, logistic squashing), each trained with the squared loss between the soft
/// ranks of the scores and the true ranks, and the perturbed ranking oracle (<see cref="Oracle.Ranking(int)"/>) with the
/// Fenchel-Young loss (ε = 1, normal noise, M = 10). Adam (lr <see cref="LearningRate"/>), batch 32, the same epochs for every layer. Test
/// metrics, as in the papers: exact precision (the share of test sequences whose predicted ranking — the ranks of the
/// scores — is the true one) and partial precision (the share of numbers at their true rank).
/// </summary>
public static class DigitSortingExperiment
{
    /// <summary>Cuturi et al. 2019 (slides' Table 1): exact precision and, in parentheses there, partial precision, by n.</summary>
    public static readonly IReadOnlyDictionary<int, (double Exact, double Partial)> Published = new Dictionary<int, (double, double)>
    {
        [3] = (0.928, 0.950), [5] = (0.811, 0.917), [7] = (0.656, 0.882), [9] = (0.497, 0.847), [15] = (0.126, 0.742),
    };

    /// <summary>The sorting layers, in table order.</summary>
    public static readonly string[] Methods = ["soft rank, permutahedron L2 (ε = 1)", "soft rank, Sinkhorn (ε = 0.01)", "perturbed ranking, Fenchel-Young (ε = 1, M = 10)"];

    /// <summary>The reference (<see cref="DigitReader"/>): numbers read by a digit classifier trained on the digit labels, then sorted.</summary>
    public const string Reference = "reference: digit classifier, numbers read and sorted";

    private static readonly string[] Columns = [.. Methods, Reference];

    private const int Digits = 4, Pixels = 64, Hidden = 64;

    /// <summary>Adam's learning rate (of 1e-3, 3e-3 and 1e-2 tried at n = 5, the best after 10 and 30 epochs).</summary>
    public const double LearningRate = 1e-2;

    /// <summary>The protocol's sizes (the full run's defaults, or the quick run's).</summary>
    public sealed record Settings(int[] Lengths, int TrainSequences, int TestSequences, int Epochs, int Seeds)
    {
        /// <summary>
        /// The full run: n = 3, 5, 7, 9, 15; 2000 training and 1000 test sequences; 30 epochs; 2 seeds (what fits in about an
        /// hour on 2 shared cores, Sinkhorn's O(n²) iterations at n = 15 dominating; --seeds 5 for a tighter spread).
        /// </summary>
        public static Settings Full { get; } = new([3, 5, 7, 9, 15], 2000, 1000, 30, 2);

        /// <summary>The quick run: n = 3, 5; 500 training and 200 test sequences; 5 epochs; 1 seed.</summary>
        public static Settings Quick { get; } = new([3, 5], 500, 200, 5, 1);
    }

    /// <summary>Runs the experiment on optdigits (or its quick version), writes the table and figures; null when the file is missing.</summary>
    /// <param name="quick">The quick settings (seconds).</param>
    /// <param name="outDir">Where the table and figures go.</param>
    /// <param name="dataPath">optdigits.csv (64 pixels 0..16 and the digit in the last column).</param>
    /// <param name="log">Progress.</param>
    /// <param name="settings">Sizes overriding the quick or full defaults (the command line's --train, --epochs, --seeds).</param>
    public static IReadOnlyList<DigitSortingRun>? Run(bool quick, string outDir, string dataPath, TextWriter log, Settings? settings = null)
    {
        if (!File.Exists(dataPath))
        {
            log.WriteLine($"digitsorting: data file '{dataPath}' not found (pass --data PATH).");
            return null;
        }
        Settings s = settings ?? (quick ? Settings.Quick : Settings.Full);
        (float[] images, int[] digits, int p, _) = ClassificationExperiment.Load(dataPath);
        if (p != Pixels) throw new InvalidDataException($"'{dataPath}': expected {Pixels} pixel columns, found {p}.");
        for (int i = 0; i < images.Length; i++) images[i] /= 16f;
        int[] order = Enumerable.Range(0, digits.Length).ToArray();
        new System.Random(0).Shuffle(order);   // the classification experiment's split
        int trainImages = (int)Math.Round(digits.Length * 3823.0 / 5620);
        int[] trainPool = order[..trainImages], testPool = order[trainImages..];
        var runs = new List<DigitSortingRun>();
        var total = Stopwatch.StartNew();
        // The reference's classifiers, one per seed (they do not depend on n), and their test digit accuracy.
        IScoreModel[] readers = Enumerable.Range(0, s.Seeds).Select(seed => DigitReader.Train(images, digits, trainPool, s.Epochs, seed)).ToArray();
        double[] readerAccuracy = readers.Select(r => DigitReader.Accuracy(r, images, digits, testPool)).ToArray();
        log.WriteLine($"reference digit classifier: test digit accuracy {readerAccuracy.Average():P2} ({total.Elapsed.TotalSeconds:F0} s)");
        foreach (int n in s.Lengths)
        {
            var train = Sequences(images, digits, trainPool, s.TrainSequences, n, seed: 1000 + n);
            var test = Sequences(images, digits, testPool, s.TestSequences, n, seed: 2000 + n);
            foreach (string method in Methods)
            {
                for (int seed = 0; seed < s.Seeds; seed++)
                {
                    var watch = Stopwatch.StartNew();
                    IScoreModel model = Train(method, n, train.Features, train.Ranks, s.Epochs, seed);
                    double seconds = watch.Elapsed.TotalSeconds;
                    (double exact, double partial) = Precision(model, n, test.Features, test.Ranks);
                    (double trainExact, double trainPartial) = Precision(model, n, train.Features, train.Ranks);
                    double concordance = DigitDiagnostics.Concordance(model, images, digits, testPool);
                    (double placedExact, double placedPartial) = DigitDiagnostics.WithExactPlaces(model, images, digits, trainPool, test.Features, test.Ranks, n);
                    runs.Add(new DigitSortingRun(method, n, seed, exact, partial, seconds, trainExact, trainPartial, concordance,
                        placedExact, placedPartial, DigitDiagnostics.PlaceRatios(model)));
                    log.WriteLine($"n {n}, {method}, seed {seed}: exact {exact:P1}, partial {partial:P1} (train {trainExact:P1}, {trainPartial:P1}; digit concordance {concordance:P1}; exact places {placedExact:P1}, {placedPartial:P1}; {seconds:F0} s; {total.Elapsed.TotalSeconds:F0} s so far)");
                }
            }
            for (int seed = 0; seed < s.Seeds; seed++)
            {
                (double exact, double partial) = PrecisionOfScores(DigitReader.Values(readers[seed], test.Features), n, test.Ranks);
                runs.Add(new DigitSortingRun(Reference, n, seed, exact, partial, 0, DigitConcordance: readerAccuracy[seed]));
                log.WriteLine($"n {n}, {Reference}, seed {seed}: exact {exact:P1}, partial {partial:P1}");
            }
            Write(runs, s, quick, settings is not null, outDir);   // after every n, so that a long run leaves its finished rows behind
        }
        return runs;
    }

    /// <summary>
    /// <paramref name="count"/> sequences of n numbers drawn from the images of <paramref name="pool"/>: features
    /// <c>[count × n·256]</c> (number i's four images side by side, most significant digit first) and the ascending ranks of
    /// the values <c>[count × n]</c>; a sequence's values are distinct (a number equal to an earlier one is drawn again).
    /// </summary>
    public static (float[] Features, float[] Ranks, int[] Values) Sequences(float[] images, int[] digits, int[] pool, int count, int n, int seed)
    {
        var rng = new System.Random(seed);
        int width = Digits * Pixels;
        var x = new float[count * n * width];
        var ranks = new float[count * n];
        var values = new int[count * n];
        var used = new HashSet<int>();
        for (int q = 0; q < count; q++)
        {
            used.Clear();
            for (int i = 0; i < n; i++)
            {
                int value;
                int[] picks = new int[Digits];
                do
                {
                    value = 0;
                    for (int d = 0; d < Digits; d++)
                    {
                        picks[d] = pool[rng.Next(pool.Length)];
                        value = 10 * value + digits[picks[d]];
                    }
                }
                while (!used.Add(value));
                values[q * n + i] = value;
                for (int d = 0; d < Digits; d++)
                    images.AsSpan(picks[d] * Pixels, Pixels).CopyTo(x.AsSpan((q * n + i) * width + d * Pixels, Pixels));
            }
            for (int i = 0; i < n; i++)
            {
                int below = 0;
                for (int j = 0; j < n; j++) if (values[q * n + j] < values[q * n + i]) below++;
                ranks[q * n + i] = below + 1;
            }
        }
        return (x, ranks, values);
    }

    /// <summary>Trains the shared score network of one sorting layer on the training sequences.</summary>
    public static IScoreModel Train(string method, int n, float[] features, float[] ranks, int epochs, int seed)
    {
        var head = new RankingOracle(n);
        var options = new StructuredTrainerOptions
        {
            NumberOfIterations = epochs, LearningRate = LearningRate, BatchSize = 32, Seed = seed,
            ModelFactory = (_, _) => new ItemwiseModel(n, new PlaceValueModel(Digits, Pixels, [Hidden], seed)),
        };
        switch (Array.IndexOf(Methods, method))
        {
            case 0:
                options.LossFactory = _ => StructuredLoss.Squared(SoftRanking.CreateRank(n, new SoftRankingOptions { Method = SoftRankingMethod.PermutahedronL2, Epsilon = 1 }));
                break;
            case 1:
                options.LossFactory = _ => StructuredLoss.Squared(SoftRanking.CreateRank(n, new SoftRankingOptions { Method = SoftRankingMethod.Sinkhorn, Epsilon = 0.01 }));
                break;
            case 2:
                options.Loss = StructuredLossKind.FenchelYoung;
                options.Epsilon = 1;
                options.Samples = 10;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, $"Unknown sorting layer; expected one of: {string.Join(", ", Methods)}.");
        }
        return StructuredTrainer.Fit(head, TrainingSource.FromArrays(features, ranks, n * Digits * Pixels, n), options);
    }

    /// <summary>Exact precision (whole sequence ranked right) and partial precision (numbers at their true rank) of the scores' ranks.</summary>
    public static (double Exact, double Partial) Precision(IScoreModel model, int n, float[] features, float[] ranks)
    {
        var theta = new float[ranks.Length];
        model.Score(features, theta);
        return PrecisionOfScores(theta, n, ranks);
    }

    /// <summary>Exact and partial precision of the ranks of scores <c>[count × n]</c> (ties to the lower index) against the true ranks.</summary>
    public static (double Exact, double Partial) PrecisionOfScores(float[] theta, int n, float[] ranks)
    {
        int count = ranks.Length / n;
        var predicted = new float[count * n];
        new RankingOracle(n).Solve(theta, predicted);
        int exact = 0, right = 0;
        for (int q = 0; q < count; q++)
        {
            int r = 0;
            for (int i = 0; i < n; i++) if (predicted[q * n + i] == ranks[q * n + i]) r++;
            right += r;
            if (r == n) exact++;
        }
        return ((double)exact / count, (double)right / (count * n));
    }

    private static void Write(List<DigitSortingRun> runs, Settings s, bool quick, bool custom, string outDir)
    {
        Directory.CreateDirectory(outDir);
        string suffix = quick ? "-quick" : "";
        string arguments = "digitsorting" + (quick ? " --quick" : "") + (custom ? $" --lengths {string.Join(',', s.Lengths)} --train {s.TrainSequences} --epochs {s.Epochs} --seeds {s.Seeds}" : "");
        File.WriteAllText(Path.Combine(outDir, $"digit_sorting{suffix}.md"), Table(runs, s, quick, arguments)
            + Report.FigureLinks(suffix, "digit_sorting_exact", "digit_sorting_partial"));
        int[] lengths = runs.Select(r => r.Length).Distinct().ToArray();
        double[] x = lengths.Select(n => (double)n).ToArray();
        foreach ((string file, string label, Func<DigitSortingRun, double> metric, Func<(double Exact, double Partial), double> published) in
                 new (string, string, Func<DigitSortingRun, double>, Func<(double Exact, double Partial), double>)[]
                 {
                     ("exact", "exact precision (%)", r => 100 * r.Exact, p => 100 * p.Exact),
                     ("partial", "partial precision (%)", r => 100 * r.Partial, p => 100 * p.Partial),
                 })
        {
            var series = Columns.Select(m =>
            {
                double[][] values = lengths.Select(n => runs.Where(r => r.Method == m && r.Length == n).Select(metric).ToArray()).ToArray();
                bool complete = values.All(v => v.Length > 0);
                return (m, complete, values);
            }).Where(t => t.complete).Select(t => new Series(t.m, x, t.values.Select(v => v.Average()).ToArray(), t.values.Select(v => Report.Std(v)).ToArray(),
                t.m.Contains("Sinkhorn") ? lengths.Select(n => Published.TryGetValue(n, out var p) ? published(p) : double.NaN).ToArray() : null));
            Report.Figure(Path.Combine(outDir, $"digit_sorting_{file}{suffix}.png"), $"Sorting 4-digit optdigits numbers: test {label} (mean ± std over {s.Seeds} seed{(s.Seeds > 1 ? "s" : "")})",
                "sequence length n", label, series);
        }
    }

    private static string Table(List<DigitSortingRun> runs, Settings s, bool quick, string arguments)
    {
        var w = new StringWriter();
        w.WriteLine("# Sorting 4-digit numbers made of optdigits images (Cuturi, Teboul & Vert 2019; Vert's slides, Table 1)" + (quick ? " (quick smoke run)" : ""));
        w.WriteLine();
        w.WriteLine(Report.ProducedBy(arguments));
        w.WriteLine();
        w.WriteLine($"Protocol in DigitSortingExperiment: a number is four 8 × 8 optdigits images side by side (256 pixels in [0, 1]), its value the 4-digit");
        w.WriteLine($"integer; a sequence is n numbers with distinct values; {s.TrainSequences} training and {s.TestSequences} test sequences per n, their images drawn from");
        w.WriteLine("disjoint image sets (the classification experiment's seeded 3823 / 1797 split). Score of a number: Σ_d a_d f(image_d), one digit network f");
        w.WriteLine("(64 → 64 ReLU → 1) shared by the places and the numbers, and learned place weights a_d that start equal (the place order is learned);");
        w.WriteLine($"Adam lr {LearningRate}, batch 32, {s.Epochs} epochs, {s.Seeds} seed{(s.Seeds > 1 ? "s" : "")} (initial weights, shuffles and noise; mean ± std). Soft-rank layers: squared loss between the");
        w.WriteLine("soft ranks of the scores and the true ranks; perturbed ranking: the Fenchel-Young loss. Test: the ranks of the scores (exact ranking), exact");
        w.WriteLine("precision = share of sequences ranked entirely right, partial precision = share of numbers at their true rank.");
        w.WriteLine();
        w.WriteLine("Published (what this stands in for): Cuturi et al. 2019's soft-sort results on 4-digit large-MNIST numbers (Grover et al. 2019's task: a");
        w.WriteLine("CNN on 4 × 28 × 28 MNIST images, trained for many more steps on far more sequences), as quoted in the slides' Table 1. Differences here:");
        w.WriteLine("8 × 8 optdigits images generated into numbers by this program (a smaller image pool: 3823 training images), a per-digit MLP with place");
        w.WriteLine("weights instead of a CNN over the whole 4-digit image (the per-digit model learned faster here: during development, at n = 5 after 10 epochs,");
        w.WriteLine("lr 3e-3, an MLP over all 256 pixels reached 30–33 % exact precision against 38–40 % for this model), fewer and shorter training runs:");
        w.WriteLine($"{s.TrainSequences} training sequences and {s.Epochs} epochs per n.");
        w.WriteLine();
        w.WriteLine($"| n | {string.Join(" | ", Columns)} | published |");
        w.WriteLine($"|---|{string.Concat(Columns.Select(_ => "---|"))}---|");
        foreach (int n in runs.Select(r => r.Length).Distinct())
        {
            string Cell(string m)
            {
                DigitSortingRun[] r = runs.Where(q => q.Method == m && q.Length == n).ToArray();
                if (r.Length == 0) return "—";
                double[] exact = r.Select(q => q.Exact).ToArray(), partial = r.Select(q => q.Partial).ToArray();
                return $"{exact.Average():F3} ± {Report.Std(exact):F3} ({partial.Average():F3} ± {Report.Std(partial):F3})";
            }
            string published = Published.TryGetValue(n, out var p) ? $"{p.Exact:F3} ({p.Partial:F3})" : "—";
            w.WriteLine($"| {n} | {string.Join(" | ", Columns.Select(Cell))} | {published} |");
        }
        w.WriteLine();
        w.WriteLine("Cells: exact precision (partial precision), mean ± std over the seeds. The reference column does not learn from rankings: a digit");
        w.WriteLine("classifier with the digit network's hidden layer (64 → 64 → 10), trained with cross-entropy on the training images' digit labels for");
        w.WriteLine($"the same epochs, reads every digit (test digit accuracy {100 * runs.Where(r => r.Method == Reference).Select(r => r.DigitConcordance).DefaultIfEmpty(double.NaN).Average():F2} %) and the numbers read are sorted: what reading these 8 × 8 digits allows.");
        w.WriteLine();
        w.WriteLine("Where the gap comes from (means over the seeds; the digit labels are used here only): the precisions on the training sequences");
        w.WriteLine("(over-fitting shows as train ≫ test); the digit concordance, the share of pairs of test images of different digits that the learned");
        w.WriteLine("digit network f (signed by the leading place weight) orders as their digits; the test precisions when f is kept but each image is");
        w.WriteLine("read as the digit whose mean f over the training images is nearest, and the numbers are read with the exact place values");
        w.WriteLine("1000, 100, 10, 1 (f's digit knowledge without the learned place weights); and the learned place weights a₁/a₀ : a₂/a₀ : a₃/a₀ (seed 0).");
        w.WriteLine();
        w.WriteLine("| n | layer | train exact (partial) | digit concordance | f with exact place values: exact (partial) | learned place weights |");
        w.WriteLine("|---|---|---|---|---|---|");
        foreach (int n in runs.Select(r => r.Length).Distinct())
        {
            foreach (string m in Methods)
            {
                DigitSortingRun[] r = runs.Where(q => q.Method == m && q.Length == n).ToArray();
                if (r.Length == 0) continue;
                w.WriteLine($"| {n} | {m} | {r.Average(q => q.TrainExact):F3} ({r.Average(q => q.TrainPartial):F3}) | {100 * r.Average(q => q.DigitConcordance):F1} % | " +
                    $"{r.Average(q => q.PlacedExact):F3} ({r.Average(q => q.PlacedPartial):F3}) | {r[0].PlaceRatios} |");
            }
        }
        w.WriteLine();
        w.WriteLine("Seconds per training run (mean over seeds; the machine was shared with other jobs):");
        w.WriteLine();
        w.WriteLine($"| n | {string.Join(" | ", Methods)} |");
        w.WriteLine($"|---|{string.Concat(Methods.Select(_ => "---|"))}");
        foreach (int n in runs.Select(r => r.Length).Distinct())
        {
            w.WriteLine($"| {n} | {string.Join(" | ", Methods.Select(m => runs.Where(q => q.Method == m && q.Length == n).Select(q => q.Seconds).DefaultIfEmpty(double.NaN).Average()).Select(v => double.IsNaN(v) ? "—" : $"{v:F1}"))} |");
        }
        return w.ToString();
    }
}
