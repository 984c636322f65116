#!/usr/bin/env bash
# The side-by-side benchmark against TensorFlow.js (scripts/bench.mjs): builds the npm package
# as users get it (profile wasm-small) and the datasets' browser subsets, prints the wasm modules' sizes
# and the table of convlens ÷ TF.js ratios. A benchmark, never a test. Arguments go to bench.mjs
# (e.g. --nets lenet5 --steps 3 --json out.json).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/package.sh" >/dev/null
"$ROOT/scripts/page-data.sh"
for wasm in target/npm/dist/wasm/*_bg.wasm; do
  raw=$(stat -c %s "$wasm")
  gz=$(gzip -9 -c "$wasm" | wc -c)
  printf '%s: %s bytes raw, %s bytes gzip -9 (%.2f MiB)\n' "$(basename "$wasm")" "$raw" "$gz" "$(echo "$gz / 1048576" | bc -l)"
done
printf 'load while measuring: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
CHROMIUM=$(chromium_path) node scripts/bench.mjs "$@"
