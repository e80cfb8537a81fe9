#!/usr/bin/env bash
# Publishes the GPU benchmark as a self-contained linux-x64 app WITHOUT libtorch binaries (tens of MiB), for a machine
# that has no .NET SDK but has Python torch (libtorch under site-packages/torch/lib). Run the result there with
#   LD_LIBRARY_PATH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib ./Microsoft.ML.Perturbed.GpuBenchmarks --device cuda
# Whether TorchSharp 0.107 (built for libtorch 2.10) runs against another libtorch (2.11) is what this run finds out.
set -euo pipefail
cd "$(dirname "$0")"
out=${1:-../../artifacts/gpu-benchmark}
dotnet publish -c Release -r linux-x64 --self-contained true -o "$out"
# Keep TorchSharp's glue (and our shim); drop libtorch's own libraries: the target machine's are used instead.
find "$out" -maxdepth 1 -name 'lib*.so*' ! -name 'libLibTorchSharp.so' ! -name 'libglibcxx_shim.so' ! -name 'libSystem.*' ! -name 'libclr*' ! -name 'libcoreclr*' ! -name 'libhostfxr*' ! -name 'libhostpolicy*' ! -name 'libmscordac*' ! -name 'libmscordbi*' ! -name 'libSkiaSharp*' -print -delete
du -sh "$out"
