#!/usr/bin/env bash
# The scale benchmarks of issue 21, item 6 (bench/results/scale.md): real text (Debian package descriptions), generated
# hashed n-grams streamed from ML.NET binary files at 10^4–10^6 rows, label ranking from SQLite at 10^6 rows; then the
# report. Scratch data and raw measurements under /tmp/scale. About 45 minutes on 2 cores.
# The Debian corpus needs the long descriptions' index once: apt-get update -o Acquire::Languages=en
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/Microsoft.ML.Perturbed.Benchmarks
run() { dotnet run -c Release --no-build --project bench/Microsoft.ML.Perturbed.Benchmarks -- scale "$@"; }
run synth-data --rows 10000,100000,1000000 --bits 18,20
run synth --rows 10000,100000,1000000 --bits 18,20 --epochs 2 --sdca-rows 100000
run sqlite --rows 1000000 --epochs 1
run debian
run text --tuned 5
run report
