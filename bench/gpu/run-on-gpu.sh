#!/usr/bin/env bash
# GPU acceptance run of the TorchSharp backend on a machine with an NVIDIA GPU and Python torch but no .NET SDK
# (docs/architecture.md, "Backends"). Needs artifacts/gpu/bundle.tar.xz from bench/gpu/package.sh; with the device tool, carry
# artifacts/gpu and run `bash bench/gpu/run-on-gpu.sh` from the repository root. Writes to $1, else $OUT, else
# artifacts/gpu/out:
#   environment.txt  GPU, driver, Python torch, libstdc++
#   abi.txt          `ldd -r` of TorchSharp's glue against the machine's libtorch: every symbol it lacks
#   tests.txt        the TorchSharp test suite with PERTURBED_TEST_DEVICE=cuda (parity with the core on the GPU)
#   results.md       the GPU benchmark (bench/Microsoft.ML.Perturbed.GpuBenchmarks) and the managed core on this host
# Environment: TORCH_LIB (libtorch's folder; default python3's torch/lib), DEVICE (cuda; cpu rehearses the run on a
# machine without a GPU), BANDWIDTH (GB/s for the floor; default from the GPU's name).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-${OUT:-$root/artifacts/gpu/out}}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xJf "$root/artifacts/gpu/bundle.tar.xz" || { echo "no bundle: run bench/gpu/package.sh first" >&2; exit 2; }
export DOTNET_ROOT=$work/dotnet DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
torch_lib=${TORCH_LIB:-$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')}
device=${DEVICE:-cuda}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
case "$gpu" in
  *H200*) bandwidth=${BANDWIDTH:-4800} ;;
  *H100*) bandwidth=${BANDWIDTH:-3350} ;;
  *) bandwidth=${BANDWIDTH:-2000} ;;
esac

{
  echo "bundle built from commit $(cat "$work/commit")"
  date -u
  uname -srm
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true
  python3 -c 'import torch; print("python torch", torch.__version__, "| CUDA", torch.version.cuda, "| available", torch.cuda.is_available())' 2>&1 || true
  echo "libtorch folder: $torch_lib"
  ls "$torch_lib" 2>&1 | tr '\n' ' '; echo
  stdcxx=$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ { print $NF; exit }')
  echo "libstdc++: $stdcxx, newest GLIBCXX: $(grep -ao 'GLIBCXX_3\.4\.[0-9]*' "$stdcxx" 2>/dev/null | sort -uV | tail -1)"
  nproc
} > "$out/environment.txt" 2>&1
cat "$out/environment.txt"

# Every relocation of the glue resolved against this libtorch (the shim preloaded as the library does at run time).
shim=$work/bench/libglibcxx_shim.so
LD_PRELOAD=$([ -f "$shim" ] && echo "$shim") LD_LIBRARY_PATH=$torch_lib ldd -r "$work/bench/libLibTorchSharp.so" > "$out/abi.txt" 2>&1
missing=$(grep -c 'undefined symbol.*libLibTorchSharp\.so)' "$out/abi.txt")
echo "glue symbols missing from this libtorch: $missing; unresolved symbols in all: $(grep -c 'undefined symbol' "$out/abi.txt") (abi.txt)"
if [ "$missing" -gt 0 ] && command -v c++filt >/dev/null; then
  grep 'undefined symbol' "$out/abi.txt" | sed 's/undefined symbol: \([^ ,]*\).*/\1/' | c++filt > "$out/abi-demangled.txt"
fi

echo "== tests on $device"
PERTURBED_TEST_DEVICE=$device LD_LIBRARY_PATH=$torch_lib "$work/tests/Microsoft.ML.Perturbed.TorchSharp.Tests" -noColor > "$out/tests.txt" 2>&1
echo "exit $?: $(grep -a 'Total:' "$out/tests.txt" | tail -1)"

echo "== benchmark on $device"
: > "$out/results.md"
LD_LIBRARY_PATH=$torch_lib "$work/bench/Microsoft.ML.Perturbed.GpuBenchmarks" --device "$device" --bandwidth "$bandwidth" --markdown "$out/results.md" ${BENCH_ARGS:-} 2>&1 | tee "$out/bench.txt"
echo "== managed core on this host's $(nproc) cores"
"$work/bench/Microsoft.ML.Perturbed.GpuBenchmarks" --core --skip-training --markdown "$out/results.md" ${BENCH_ARGS:-} 2>&1 | tee -a "$out/bench.txt"
