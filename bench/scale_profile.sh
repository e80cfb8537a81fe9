#!/usr/bin/env bash
# Where our trainer's time goes in the scale benchmarks (bench/results/scale.md, "Profile"): perf samples of one child
# each (JIT frames named through the runtime's perf map), grouped by bench/scale_profile.py. Needs the data of
# bench/scale.sh under /tmp/scale and perf. About 3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/Microsoft.ML.Perturbed.Benchmarks > /dev/null
B=bench/Microsoft.ML.Perturbed.Benchmarks/bin/Release/net10.0/Microsoft.ML.Perturbed.Benchmarks
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0   # W^X off, or perf cannot match JIT frames to the map
P=/tmp/scale/prof
mkdir -p $P
profile() { local name=$1; shift; perf record -q -F 199 -o $P/$name.data $B scale child "$@" > $P/$name.out 2>&1; grep -o '"FitSeconds[^,]*,[^,]*,"StepSeconds[^,]*' $P/$name.out || true; grep -o '"Note":"[^"]*' $P/$name.out || true; python3 bench/scale_profile.py $P/$name.data; }
echo "== text: ours, Adam, 2 epochs";      profile text text perturbed /tmp/scale/debian.tsv 2
echo "== text: ours, SGD, 2 epochs (no Adam moments)"; $B scale child text perturbed-sgd /tmp/scale/debian.tsv 2 | grep -o '"FitSeconds[^,]*,[^,]*,"StepSeconds[^,]*\|"Note":"[^"]*'
echo "== synth: 10^5 rows, 2^20 slots, 2 epochs"; profile synth synth perturbed /tmp/scale/synth-100000-20.bin /tmp/scale/synth-test-20.bin 2
echo "== synth: 10^6 rows, 2^18 slots, 1 epoch";  profile synth18 synth perturbed /tmp/scale/synth-1000000-18.bin /tmp/scale/synth-test-18.bin 1
echo "== sqlite: 10^6 rows, streaming, 1 epoch";  profile sqlite sqlite streaming /tmp/scale/ranking-1000000.sqlite 1
