#!/usr/bin/env bash
# The blackbox λ sweep of bench/results/label_ranking.md: 10-fold cross-validated Spearman of the blackbox loss through
# mlContext.LabelRanking() (P_sphere ∘ P_plane, 50 epochs, η = 0.01, the benchmark's protocol) for the squared and the linear
# task loss over λ, on the six smaller label-ranking sets (elevators left out: 16,599 rows). Prints the markdown table.
# Usage: bash bench/labelranking_blackbox_sweep.sh [data folder]   (default ../shared/data/label_ranking; skips without it)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${1:-$root/../shared/data/label_ranking}"
if [ ! -d "$data" ]; then echo "Skipped: no label-ranking data at $data."; exit 0; fi
dotnet build -c Release "$root/bench/Microsoft.ML.Perturbed.Benchmarks" > /dev/null
bench="$root/bench/Microsoft.ML.Perturbed.Benchmarks/bin/Release/net10.0/Microsoft.ML.Perturbed.Benchmarks.dll"
sets=iris,wine,glass,housing,vehicle,stock
echo "| task loss | λ | ${sets//,/ | } |"
echo "|---|---|$(echo "$sets" | sed 's/[^,]*/---/g; s/,/|/g')|"
for task in Squared Linear; do
  for lambda in 0.01 0.03 0.1 0.3 1 3; do
    # One row per set from the benchmark ("| iris | 150 | 0.852 ± 0.060 (0.70) | 2 s |"): keep the mean, in the sets' order.
    out="$(cd "$root" && LR_LOSSES=Blackbox LR_TASKLOSS=$task LR_SETS=$sets dotnet "$bench" labelranking "$data" 50 "$lambda")"
    row="| $task | $lambda |"
    for s in ${sets//,/ }; do
      row="$row $(echo "$out" | awk -F'|' -v s=" $s " '$2 == s { split($4, a, " "); print a[1] }') |"
    done
    echo "$row"
  done
done
