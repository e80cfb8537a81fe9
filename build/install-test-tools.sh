#!/usr/bin/env bash
# Test-only tools from Debian's packages: python3-onnx gives the tests the reference ONNX checker
# (onnx.checker.check_model). Idempotent; without root or apt it says so and the tests skip the checker (not under CI=true).
# Another apt process holding the lock is waited for (up to PERTURBED_APT_LOCK_TIMEOUT seconds, default 300); the package
# lists are updated first, quietly, when apt does not know the package yet (a fresh machine); a failure is one line.
set -euo pipefail
if /usr/bin/python3 -c "import onnx" 2>/dev/null; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-test-tools: cannot install python3-onnx (needs root and apt-get); the ONNX checker tests will be skipped." >&2
  exit 0
fi
timeout="${PERTURBED_APT_LOCK_TIMEOUT:-300}"
apt=(apt-get -q -o "DPkg::Lock::Timeout=$timeout")
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
fail() {
  echo "install-test-tools: $1 failed (exit $2): $(grep -E '^(E|W):' "$log" | head -n 1 || true)" >&2
  exit "$2"
}
# apt-cache policy prints "Candidate: (none)" (or nothing) for a package it has no list entry for.
if ! apt-cache policy python3-onnx 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  "${apt[@]}" update >"$log" 2>&1 || fail "apt-get update" $?
fi
DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y python3-onnx >"$log" 2>&1 || fail "apt-get install python3-onnx" $?
