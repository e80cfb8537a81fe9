#!/usr/bin/env bash
# Test-only tools from Debian's packages: python3-onnx gives the tests the reference ONNX checker
# (onnx.checker.check_model). Idempotent; without root or apt it says so and the tests skip the checker (not under CI=true).
set -euo pipefail
if /usr/bin/python3 -c "import onnx" 2>/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-onnx >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-onnx >/dev/null; }
else
  echo "install-test-tools: cannot install python3-onnx (needs root and apt-get); the ONNX checker tests will be skipped." >&2
fi
