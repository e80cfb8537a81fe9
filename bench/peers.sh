#!/usr/bin/env bash
# Runs our benchmark and the two peers (../shared/peers: PyTorch's way of batching perturbations; fast-soft-sort,
# NumPy + Numba) back to back on this machine and writes the ratio table to bench/results/peers.md.
# Usage: bench/peers.sh [path to the peers folder]   (default: ../shared/peers from the repository root)
# Every ratio in the table comes from this one run; absolute times are printed for reference only.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${1:-$root/../shared/peers}"
raw="$root/bench/results/peers-raw.txt"

if ! /usr/bin/python3 -c "import torch, numba, numpy" 2>/dev/null; then
  apt-get update && apt-get install -y python3-numpy python3-numba python3-torch
fi
dotnet build "$root/bench/Microsoft.ML.Perturbed.Benchmarks/Microsoft.ML.Perturbed.Benchmarks.csproj" -c Release -v q -nologo
bench="$root/bench/Microsoft.ML.Perturbed.Benchmarks/bin/Release/net10.0/Microsoft.ML.Perturbed.Benchmarks.dll"

# The commit first: the raw file is itself tracked, so emptying it before would always read as an uncommitted change.
commit="$(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- ':!bench/results/peers-raw.txt' ':!bench/results/peers.md' && echo '' || echo ' with uncommitted changes')"
: > "$raw"
echo "# commit $commit; $(date -u +%FT%TZ) $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" >> "$raw"
# Ours runs before and after the peers; the table keeps the faster of the two medians per case (a shared machine's
# load comes in bursts).
dotnet "$bench" peers | tee -a "$raw"
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for the peer commands alone (see the peers README).
for threads in 1 2; do
  (cd "$peers" && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 -c \
    "import torch; torch.set_num_threads($threads); exec(open('torch_perturbed_bench.py').read())") | tee -a "$raw"
done
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$peers/fss_bench.py" "$peers/fast-soft-sort" | tee -a "$raw"
dotnet "$bench" peers | tee -a "$raw"
/usr/bin/python3 "$root/bench/peers_table.py" "$raw" > "$root/bench/results/peers.md"
echo "wrote bench/results/peers.md"
