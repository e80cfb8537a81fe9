#!/usr/bin/env bash
# Packs what the GPU acceptance run needs into one archive for a machine with Python torch but no .NET SDK and no
# package feed (docs/architecture.md, "Backends"): the GPU benchmark and the TorchSharp test suite (an xunit.v3 executable), both
# framework-dependent, plus one copy of the .NET runtime; none of libtorch's own binaries (the machine's are used).
#   bash bench/gpu/package.sh            -> artifacts/gpu/bundle.tar.xz (about 30 MiB)
# Then on the GPU machine, from the repository root: bash bench/gpu/run-on-gpu.sh (see that script).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
publish() {   # project, folder
  dotnet publish "$root/$1" -c Release -r linux-x64 --self-contained false -p:UseAppHost=true -o "$stage/$2" >/dev/null
  # Keep TorchSharp's glue and the project's libstdc++ shim; drop libtorch's libraries.
  find "$stage/$2" -name 'lib*.so*' ! -name 'libLibTorchSharp.so' ! -name 'libglibcxx_shim.so' -delete
  # Nor the test platform's coverage collector or translated resources.
  rm -rf "$stage/$2/Microsoft.CodeCoverage"
  find "$stage/$2" -mindepth 1 -maxdepth 1 -type d \( -name '??' -o -name '??-*' \) -exec rm -rf {} +
}
publish bench/Microsoft.ML.Perturbed.GpuBenchmarks bench
publish test/Microsoft.ML.Perturbed.TorchSharp.Tests tests
# One .NET runtime for both apps (found through DOTNET_ROOT): the host, its resolver and Microsoft.NETCore.App.
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
version=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { v = $2 } END { print v }')
mkdir -p "$stage/dotnet/host/fxr" "$stage/dotnet/shared/Microsoft.NETCore.App"
cp "$dotnet_root/dotnet" "$stage/dotnet/"
cp -r "$dotnet_root/host/fxr/$(ls "$dotnet_root/host/fxr" | sort -V | tail -1)" "$stage/dotnet/host/fxr/"
cp -r "$dotnet_root/shared/Microsoft.NETCore.App/$version" "$stage/dotnet/shared/Microsoft.NETCore.App/"
git -C "$root" rev-parse --short HEAD > "$stage/commit" 2>/dev/null || echo unknown > "$stage/commit"
mkdir -p "$root/artifacts/gpu"
tar -C "$stage" -cJf "$root/artifacts/gpu/bundle.tar.xz" .
du -h "$root/artifacts/gpu/bundle.tar.xz"
