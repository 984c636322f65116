#!/usr/bin/env bash
# Measures the shipped wasm (raw and gzipped size) and LeNet-5's inference and training speed
# in headless Chromium, on WebGPU and on the CPU backend. A benchmark, never a test.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
dist="$CONVLENS_CACHE/bench-dist"
with_wasm_env trunk build --release --offline --dist "$dist" >&2
wasm="$dist/convlens/wasm/convlens_bg.wasm"
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
printf 'wasm (wasm-small): %s bytes (%.1f MB) raw, %s bytes (%.1f MB) gzip -9\n' \
  "$raw" "$(echo "$raw / 1048576" | bc -l)" "$gz" "$(echo "$gz / 1048576" | bc -l)"
node scripts/bench.mjs "$dist" "$(chromium_path)"
