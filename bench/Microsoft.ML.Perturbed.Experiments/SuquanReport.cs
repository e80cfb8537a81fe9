using System.Diagnostics;

namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>The table and figures of <see cref="SuquanExperiment"/>.</summary>
public static class SuquanReport
{
    /// <summary>The markdown table: command, commit, protocol, means over pairs, wins, learning curve, per-pair losses, published facts.</summary>
    public static string Table(IReadOnlyList<SuquanCell> cells, bool quick, string data, (int A, int B) shown, double seconds)
    {
        string[] columns = [.. SuquanExperiment.Methods, SuquanExperiment.Undistorted];
        (int A, int B)[] pairs = cells.Select(c => (c.A, c.B)).Distinct().ToArray();
        int[] sizes = cells.Select(c => c.Size).Distinct().OrderBy(s => s == 0 ? int.MaxValue : s).ToArray();
        SuquanCell Cell((int A, int B) pair, int size, string method) => cells.First(c => c.A == pair.A && c.B == pair.B && c.Size == size && c.Method == method);
        var w = new StringWriter();
        w.WriteLine($"# SUQUAN on {data}: {pairs.Length} digit pairs under per-row monotone distortions" + (quick ? " (quick smoke run)" : ""));
        w.WriteLine();
        w.WriteLine(Report.ProducedBy("suquan" + (quick ? " --quick" : "")));
        w.WriteLine();
        w.WriteLine($"{cells.Count} cells in {seconds:F0} s. Protocol (SuquanExperiment): each row's pixels x ∈ {{0, …, 16}} go through");
        w.WriteLine("their own increasing map a·((x + 1)/17)^γ + c (γ = e^Z₁, a = e^Z₂, c = 2Z₃, standard normal Zᵢ), which keeps ranks and ties;");
        w.WriteLine("per pair a seeded 2/3 : 1/3 split, trained on the whole 2/3 (\"all\") or on its first rows (the learning curve), tested on the");
        w.WriteLine("same 1/3; every method is the same L2-regularized logistic regression (L-BFGS, mean loss + λ/2 ‖w‖²) with λ "
            + (quick ? "= 1e-2" : "chosen from {1e-5, 1e-4, 1e-3, 1e-2, 1e-1} by 3-fold cross-validated logistic loss"));
        w.WriteLine("on the training rows; QN targets are centred and scaled to ‖f‖² = 64; SUQUAN runs 10 alternations from the training mean.");
        w.WriteLine("Ties in a row (optdigits rows are mostly 0s) share the mean of their targets. The last column fits the raw, undistorted");
        w.WriteLine("pixels: what the distortion takes from the unnormalized model (QN to a uniform or normal target is exactly invariant to it).");
        w.WriteLine("Log-loss: the mean test logistic loss, the quantity every method minimizes on its training rows; it separates methods");
        w.WriteLine("where accuracy and AUC saturate.");
        w.WriteLine();
        w.WriteLine($"## All training rows: mean over the {pairs.Length} pairs (± std over pairs)");
        w.WriteLine();
        w.WriteLine("| method | test accuracy | test AUC | test log-loss | SUQUAN against it, log-loss: wins / losses | AUC: wins / ties / losses | median λ | mean time (s) |");
        w.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (string method in columns)
        {
            SuquanCell[] row = pairs.Select(p => Cell(p, 0, method)).ToArray();
            SuquanCell[] suquan = pairs.Select(p => Cell(p, 0, "SUQUAN")).ToArray();
            int lossWins = suquan.Zip(row).Count(t => t.First.LogLoss < t.Second.LogLoss), lossTies = suquan.Zip(row).Count(t => t.First.LogLoss == t.Second.LogLoss);
            int aucWins = suquan.Zip(row).Count(t => t.First.Auc > t.Second.Auc), aucTies = suquan.Zip(row).Count(t => t.First.Auc == t.Second.Auc);
            bool self = method == "SUQUAN";
            double[] accuracy = row.Select(c => 100 * c.Accuracy).ToArray(), auc = row.Select(c => c.Auc).ToArray(), loss = row.Select(c => c.LogLoss).ToArray();
            w.WriteLine($"| {method} | {accuracy.Average():F2} % ± {Report.Std(accuracy):F2} | {auc.Average():F4} ± {Report.Std(auc):F4} | {loss.Average():F4} ± {Report.Std(loss):F4} | " +
                $"{(self ? "—" : $"{lossWins} / {pairs.Length - lossWins - lossTies}")} | {(self ? "—" : $"{aucWins} / {aucTies} / {pairs.Length - aucWins - aucTies}")} | " +
                $"{Median(row):G2} | {row.Average(c => c.Seconds):F2} |");
        }
        w.WriteLine();
        w.WriteLine("## Learning curve: mean over the pairs of test accuracy / AUC / log-loss against the training rows");
        w.WriteLine();
        w.WriteLine($"| training rows | {string.Join(" | ", columns)} |");
        w.WriteLine($"|---|{string.Concat(columns.Select(_ => "---|"))}");
        foreach (int size in sizes)
        {
            w.WriteLine($"| {(size == 0 ? $"all (2/3, mean {cells.Where(c => c.All).Average(c => c.Train):F0})" : size)} | {string.Join(" | ", columns.Select(m =>
            {
                SuquanCell[] row = pairs.Select(p => Cell(p, size, m)).ToArray();
                return $"{100 * row.Average(c => c.Accuracy):F2} % / {row.Average(c => c.Auc):F4} / {row.Average(c => c.LogLoss):F4}";
            }))} |");
        }
        w.WriteLine();
        w.WriteLine("Where learning f pays and where it overfits: mean training / test log-loss of QN to the training mean (SUQUAN's start) and of");
        w.WriteLine("SUQUAN, their median cross-validated λ, and the correlation of SUQUAN's f with its start (mean and smallest over the pairs).");
        w.WriteLine();
        w.WriteLine("The last two columns fit both at λ = 1e-3 (no validation): there SUQUAN's training objective is below its start's by construction.");
        w.WriteLine();
        w.WriteLine("| training rows | QN training mean: train / test log-loss | SUQUAN: train / test log-loss | median λ: QN training mean / SUQUAN | corr(learned f, start): mean (min) | λ = 1e-3, QN training mean: train / test | λ = 1e-3, SUQUAN: train / test (test wins / losses) |");
        w.WriteLine("|---|---|---|---|---|---|---|");
        foreach (int size in sizes)
        {
            SuquanCell[] mean = pairs.Select(p => Cell(p, size, "QN training mean")).ToArray(), suquan = pairs.Select(p => Cell(p, size, "SUQUAN")).ToArray();
            w.WriteLine($"| {(size == 0 ? "all" : size)} | {mean.Average(c => c.TrainLogLoss):F4} / {mean.Average(c => c.LogLoss):F4} | " +
                $"{suquan.Average(c => c.TrainLogLoss):F4} / {suquan.Average(c => c.LogLoss):F4} | {Median(mean):G2} / {Median(suquan):G2} | " +
                $"{suquan.Average(c => c.StartCorrelation):F3} ({suquan.Min(c => c.StartCorrelation):F3}) | " +
                $"{Fixed(pairs.Select(p => Cell(p, size, "QN training mean" + SuquanExperiment.FixedSuffix)).ToArray(), null)} | " +
                $"{Fixed(pairs.Select(p => Cell(p, size, "SUQUAN" + SuquanExperiment.FixedSuffix)).ToArray(), pairs.Select(p => Cell(p, size, "QN training mean" + SuquanExperiment.FixedSuffix)).ToArray())} |");
        }
        w.WriteLine();
        w.WriteLine("## Per pair, all training rows: test log-loss (best of the five methods in bold) and SUQUAN's test AUC");
        w.WriteLine();
        w.WriteLine($"| pair | {string.Join(" | ", columns)} | SUQUAN AUC |");
        w.WriteLine($"|---|{string.Concat(columns.Select(_ => "---|"))}---|");
        foreach ((int a, int b) in pairs)
        {
            double best = SuquanExperiment.Methods.Min(m => Cell((a, b), 0, m).LogLoss);
            w.WriteLine($"| {a} vs {b} | {string.Join(" | ", columns.Select(m => Cell((a, b), 0, m).LogLoss is var v && v == best && m != SuquanExperiment.Undistorted ? $"**{v:F4}**" : $"{v:F4}"))} | {Cell((a, b), 0, "SUQUAN").Auc:F4} |");
        }
        w.WriteLine();
        string s = quick ? "-quick" : "";
        w.WriteLine($"Figures: `suquan_loss{s}.png` (per-pair test log-loss, pairs ordered by SUQUAN's), `suquan_curve{s}.png` (the learning curve),");
        w.WriteLine($"`suquan_f{s}.png` (the learned f of {shown.A} vs {shown.B} against the fixed targets, all centred and scaled to ‖f‖² = 64).");
        w.WriteLine();
        w.WriteLine("## Published facts");
        w.WriteLine();
        w.WriteLine("* Le Morvan & Vert 2017 (arXiv 1706.00244, abstract): SUQUAN outperforms standard quantile normalization on simulated");
        w.WriteLine("  data, images and genomic data. The slides' example (CIFAR-10 horse vs plane, logistic regression on raw");
        w.WriteLine("  pixels) shows the learned f departing from the median/uniform targets. No optdigits numbers are published: the");
        w.WriteLine("  comparison is of direction (SUQUAN against the fixed targets, the learned f differing from them), not of values.");
        w.WriteLine("* The authors' R package (jpvert/suquan) alternates 10 times from normal quantiles; its f-step keeps f bounded and");
        w.WriteLine("  non-decreasing; ties are broken by order of appearance (here they share the mean of their targets).");
        w.WriteLine("* Their own later runs (jpvert/deepSUQUAN, results/notebook.md, CIFAR-10, 10 classes, linear model, undistorted images):");
        w.WriteLine("  accuracy 0.306 raw, 0.247 QN uniform, 0.248 SUQUAN (greyscale); 0.367 / 0.367 / 0.372 (RGB) — on undistorted data QN");
        w.WriteLine("  loses the information in the intensity distribution and learning f wins little back; the breast-cancer vignette of the");
        w.WriteLine("  R package finds no gain either. Hence the distortion here, the setting in which quantile normalization matters.");
        return w.ToString();
    }

    private static string Fixed(SuquanCell[] cells, SuquanCell[]? against) =>
        $"{cells.Average(c => c.TrainLogLoss):F4} / {cells.Average(c => c.LogLoss):F4}" + (against is null ? "" :
            $" ({cells.Zip(against).Count(t => t.First.LogLoss < t.Second.LogLoss)} / {cells.Zip(against).Count(t => t.First.LogLoss > t.Second.LogLoss)})");

    private static double Median(SuquanCell[] cells) => cells.Select(c => c.Lambda).Order().ElementAt(cells.Length / 2);

    /// <summary>Per-pair test log-losses, the learning curve, and the learned f of the first pair against the fixed targets.</summary>
    public static void Figures(IReadOnlyList<SuquanCell> cells, IReadOnlyDictionary<string, double[]> functions, (int A, int B) shown, string outDir, string suffix)
    {
        string[] columns = [.. SuquanExperiment.Methods, SuquanExperiment.Undistorted];
        SuquanCell[] all = cells.Where(c => c.All).ToArray();
        (int A, int B)[] pairs = all.Where(c => c.Method == "SUQUAN").OrderBy(c => c.LogLoss).Select(c => (c.A, c.B)).ToArray();
        double[] index = Enumerable.Range(1, pairs.Length).Select(i => (double)i).ToArray();
        Report.Lines(Path.Combine(outDir, $"suquan_loss{suffix}.png"), "optdigits pairs, per-row monotone distortions: test log-loss",
            "pair (ordered by SUQUAN's test log-loss)", "test log-loss",
            columns.Select(m => (m, index, pairs.Select(p => all.First(c => c.A == p.A && c.B == p.B && c.Method == m).LogLoss).ToArray())));
        int[] sizes = cells.Where(c => !c.All).Select(c => c.Train).Distinct().Order().ToArray();
        double full = all.Average(c => c.Train);
        Report.Lines(Path.Combine(outDir, $"suquan_curve{suffix}.png"), "optdigits pairs: mean test log-loss against training rows (all = the 2/3 split)",
            "log10 training rows", "mean test log-loss",
            columns.Select(m => (m, sizes.Select(s => Math.Log10(s)).Append(Math.Log10(full)).ToArray(),
                sizes.Append(0).Select(s => cells.Where(c => c.Size == s && c.Method == m).Average(c => c.LogLoss)).ToArray())));
        Report.Lines(Path.Combine(outDir, $"suquan_f{suffix}.png"), $"{shown.A} vs {shown.B}: quantile functions (centred, ‖f‖² = 64)", "rank k (ascending)", "f_k",
            functions.Select(p => (p.Key, Enumerable.Range(0, p.Value.Length).Select(k => (double)k).ToArray(), p.Value)));
    }
}
