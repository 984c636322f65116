#!/usr/bin/env bash
# Builds one of the npm package's wasm modules with cargo and prints the path of its .wasm
# (before wasm-bindgen). Usage: scripts/wasm-module.sh MODULE (convlens_cpu, convlens_webgpu,
# convlens_cpu_train, convlens_webgpu_train, convlens_cpu_threads). CONVLENS_PACKAGE_PROFILE picks
# the cargo profile (default wasm-small). scripts/package.sh builds all five with it;
# scripts/test.sh also builds the threaded one early, beside other work.
#
# Builds that share a target directory write the same convlens.wasm (a cdylib's name has no hash),
# so cargo can call a module fresh while the file on disk is another module's (or another
# checkout's). Cargo says which (`"fresh"` in its JSON messages, scripts/cargo-artifact.mjs): a
# module it built is kept in this checkout's target/wasm-modules/ with the name of its unit, and a
# fresh one is taken from there (scripts/test.sh keeps the browser tests' build of the WebGPU
# training module the same way). Only a fresh module with no copy of its unit is rebuilt.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

module=${1:?usage: scripts/wasm-module.sh MODULE}
profile=${CONVLENS_PACKAGE_PROFILE:-wasm-small}
features=$(module_features "$module") || die "no wasm module $module (scripts/env.sh, WASM_MODULES)"
case $module in
  convlens_cpu_threads) env=with_wasm_threads_env ;;
  *) env=with_wasm_env ;;
esac
kept=$(kept_module "$profile" "$module")
mkdir -p "${kept%/*}"
# One build of a module at a time (scripts/test.sh builds the threaded one beside the package).
exec 9> "$kept.lock"
flock 9
build() {
  log "building the $module wasm module (profile $profile, features: ${features:-none})"
  $env cargo build --locked --profile "$profile" --target wasm32-unknown-unknown --lib \
    --no-default-features --features "$features" --message-format=json-render-diagnostics |
    node "$ROOT/scripts/cargo-artifact.mjs" convlens:cdylib
}
read -r fresh wasm unit < <(build)
if [ "$fresh" = true ] && { [ ! -f "$kept" ] || [ "$(cat "$kept.unit" 2>/dev/null)" != "$unit" ]; }; then
  touch src/lib.rs
  read -r fresh wasm unit < <(build)
fi
if [ "$fresh" != true ]; then
  cp "$wasm" "$kept.partial"
  mv "$kept.partial" "$kept"
  echo "$unit" > "$kept.unit"
fi
echo "$kept"
