"""Groups a perf.data file's samples (self time) by the parts of our training step and the data path (bench/scale_profile.sh)."""
import collections
import re
import subprocess
import sys

GROUPS = [
    ("update: SparseAffineSession.Update (lazy Adam/SGD)", r"SparseAffineSession::(Update|AdamStep|Decay)"),
    ("scoring: SparseAffineSession.Evaluate/Score, AffineModel", r"SparseAffineSession::(Score|Evaluate)|AffineModel::|ManagedTrainingSession"),
    ("gradient gather: SparseAffineSession.Gather", r"SparseAffineSession::Gather"),
    ("SpanMath (dense scoring and gather)", r"SpanMath::"),
    ("loss: perturbed optimizer, noise, oracle", r"Perturbed\.(Layers|Perturbation|Noise|Random|Oracles|Losses|Sorting)|PerturbedOptimizer|Philox|TensorPrimitives|FenchelYoung|RowwiseLoss|StructuredLoss|ArgmaxOracle|NoiseMath"),
    ("our data path: row stream, checks, shuffle pool, batches", r"Perturbed\.(Data|Estimators)|TrainingRows|StreamingSource|DataViewRowStream"),
    ("SQLite: Microsoft.Data.Sqlite, SQLitePCLRaw, e_sqlite3, SafeHandle, mutexes", r"sqlite|Sqlite|SQLite|SafeHandle|pthread_mutex"),
    ("ours, elsewhere (the trainer's set-up, the transformer)", r"\[Microsoft\.ML\.Perturbed"),
    ("ML.NET: cursors, loaders, featurizer", r"\[Microsoft\.ML\.|Microsoft\.ML\.(Data|Transforms|Internal)"),
    ("GC, runtime, kernel (page faults, thread switches)", r"\[k\]|libcoreclr|libclrjit|memset|memmove|Memmove|__tls|sched_yield|libc\.so"),
]


def main(path: str) -> None:
    report = subprocess.run(["perf", "report", "-i", path, "--no-children", "--sort", "dso,symbol", "-g", "none",
                             "--percent-limit", "0", "--stdio"], capture_output=True, text=True, check=True).stdout
    totals: collections.Counter = collections.Counter()
    others: collections.Counter = collections.Counter()
    for line in report.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(.+?)\s+(\[.\])\s+(.*)", line)
        if not m:
            continue
        share, symbol = float(m.group(1)), f"{m.group(3)} {m.group(4).strip()} {{{m.group(2)}}}"
        group = next((name for name, rx in GROUPS if re.search(rx, symbol)), None)
        if group is None:
            others[symbol[:110]] += share
            group = "other"
        totals[group] += share
    for name, share in totals.most_common():
        print(f"  {share:5.1f} %  {name}")
    for symbol, share in others.most_common(3):
        print(f"           other: {share:4.2f} % {symbol}")


if __name__ == "__main__":
    main(sys.argv[1])
