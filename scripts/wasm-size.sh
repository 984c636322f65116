#!/usr/bin/env bash
# Builds the library for wasm32 under several release settings and prints each .wasm's size
# after wasm-bindgen, raw and gzipped, optionally after wasm-opt. A measurement, not a test:
# each variant is a full optimised build (minutes). Usage: scripts/wasm-size.sh [variant...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

# name: cargo --config settings for a profile inheriting `release`.
declare -A VARIANTS=(
  [o3]=''
  [o3-lto]='lto="fat" codegen-units=1'
  [os-lto]='opt-level="s" lto="fat" codegen-units=1'
  [os-lto-strip]='opt-level="s" lto="fat" codegen-units=1 strip=true'
  [oz-lto]='opt-level="z" lto="fat" codegen-units=1'
)
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(o3 o3-lto os-lto os-lto-strip)
out="$CONVLENS_CACHE/wasm-size"
mkdir -p "$out"

size() { printf '%6.2f MB raw %6.2f MB gzip' "$(echo "$(stat -c %s "$1") / 1048576" | bc -l)" \
  "$(echo "$(gzip -9 -c "$1" | wc -c) / 1048576" | bc -l)"; }

for v in "${variants[@]}"; do
  [ -n "${VARIANTS[$v]+x}" ] || die "unknown variant $v (${!VARIANTS[*]})"
  profile="size-$v"
  args=(--config "profile.$profile.inherits=\"release\"")
  for kv in ${VARIANTS[$v]}; do args+=(--config "profile.$profile.$kv"); done
  start=$(date +%s)
  with_wasm_env cargo build --locked --target wasm32-unknown-unknown --lib --profile "$profile" "${args[@]}" >&2
  secs=$(( $(date +%s) - start ))
  wasm-bindgen --target web --out-dir "$out/$v" "$CONVLENS_WASM_TARGET/wasm32-unknown-unknown/$profile/convlens.wasm" 2>/dev/null
  echo "$v (${VARIANTS[$v]:-release defaults}): $(size "$out/$v/convlens_bg.wasm")  [build ${secs}s]"
  if [ "${WASM_OPT:-0}" = 1 ]; then
    wasm-opt -Os --all-features "$out/$v/convlens_bg.wasm" -o "$out/$v/opt.wasm"
    echo "$v + wasm-opt -Os: $(size "$out/$v/opt.wasm")"
  fi
done
