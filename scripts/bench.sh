#!/usr/bin/env bash
# The side-by-side benchmark against TensorFlow.js (scripts/bench.mjs): builds the npm package
# as users get it (profile wasm-small) and the datasets' browser subsets, prints the wasm's size
# and the table of convlens ÷ TF.js ratios. A benchmark, never a test. Arguments go to bench.mjs
# (e.g. --nets lenet5 --steps 3 --json out.json).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/package.sh" >/dev/null
"$ROOT/scripts/page-data.sh"
wasm=target/npm/dist/wasm/convlens_bg.wasm
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
printf 'convlens_bg.wasm: %s bytes raw, %s bytes gzip -9 (%.2f MiB)\n' "$raw" "$gz" "$(echo "$gz / 1048576" | bc -l)"
printf 'load while measuring: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
CHROMIUM=$(chromium_path) node scripts/bench.mjs "$@"
