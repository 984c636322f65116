#!/usr/bin/env bash
# Runs every test: formatting, lints, the native tests (CPU backend, the CLI also on wgpu) and the browser tests
# (wasm-bindgen-test in headless Chromium with WebGPU on). Sets up the machine first. Ends with a
# table of each stage's time (also when a stage fails).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

# Each stage's name and seconds, printed as one table when the script ends, however it ends.
STAGES=()
CURRENT=""
stage() {
  local name=$1 t0=$SECONDS
  shift
  CURRENT=$name
  log "$name"
  "$@"
  STAGES+=("$name|$((SECONDS - t0))")
  CURRENT=""
}
STAGE_START=$SECONDS
print_stages() {
  local status=$? row total=0
  {
    printf '\n%-70s %9s\n' "stage" "time"
    for row in "${STAGES[@]}"; do
      printf '%-70s %6d:%02d\n' "${row%%|*}" $((${row##*|} / 60)) $((${row##*|} % 60))
    done
    [ -n "$CURRENT" ] && printf '%-70s %9s\n' "$CURRENT" "FAILED"
    total=$((SECONDS - STAGE_START))
    printf '%-70s %6d:%02d\n' "total" $((total / 60)) $((total % 60))
  } >&2
  exit $status
}
trap print_stages EXIT

# A fresh clone (CI) never reuses the crate's incremental caches: they are keyed by its path.
[ "${CI:-}" = true ] && export CARGO_INCREMENTAL=0

setup() { CONVLENS_BACKGROUND_TOOLS=1 "$ROOT/scripts/setup.sh"; }
stage "setup (scripts/setup.sh)" setup

stage "cargo fmt --check" cargo fmt --all -- --check

stage "the scripts' own tests (tests/scripts)" node --test tests/scripts/

clippy_native() {
  # With the native wgpu backend, which the CLI tests run on (Mesa's lavapipe where there is no GPU).
  CARGO_TARGET_DIR="$CONVLENS_NATIVE_TARGET" cargo clippy --locked --all-targets --features cli,wgpu -- -D warnings
}
stage "clippy (native)" clippy_native

clippy_wasm() {
  [ "$(wasm_toolchain)" = rustup ] || { log "skipped: the Debian toolchain has no clippy"; return 0; }
  with_wasm_env cargo clippy --locked --release --target wasm32-unknown-unknown --lib --tests -- -D warnings
  # The package's CPU inference module: neither `webgpu` nor `train` (code behind either gate).
  with_wasm_env cargo clippy --locked --release --target wasm32-unknown-unknown --lib --no-default-features -- -D warnings
}
stage "clippy (wasm32)" clippy_wasm

native_tests() { CARGO_TARGET_DIR="$CONVLENS_NATIVE_TARGET" cargo test --locked --features cli,wgpu; }
stage "native tests (CPU backend; the CLI also on wgpu)" native_tests

browser_tests() {
  await_wasm_bindgen
  # The profile the package ships (wasm-small): Burn in a debug wasm build is too slow, and sharing
  # the package's dependency build saves a whole optimised build of Burn for wasm. SwiftShader
  # needs a long timeout.
  CHROMEDRIVER=$(chromedriver_path) WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-900} \
    with_wasm_env cargo test --locked --profile wasm-small --target wasm32-unknown-unknown --test web --test web_training
}
stage "browser tests (headless Chromium, WebGPU)" browser_tests

package() {
  tarball=$("$ROOT/scripts/package.sh")
  "$ROOT/scripts/check-package.sh" "$tarball"
  "$ROOT/scripts/page-data.sh"
}
stage "the npm package (scripts/package.sh), checked for publishing" package

npm_e2e() {
  CONVLENS_TARBALL=$tarball CHROMIUM=$(chromium_path) \
    node --test --test-concurrency=1 tests/e2e/npm-node.test.mjs tests/e2e/npm-vite.test.mjs tests/e2e/npm-threads.test.mjs \
    tests/e2e/examples.test.mjs
}
# The packed package in fresh projects: Node, a Vite app in headless Chromium; its files with no
# bundler on a cross-origin isolated page (threads); examples/ (no bundler, Vite, webpack 5).
stage "the packed package in Node, Vite, threads and the examples" npm_e2e

page_e2e() { CHROMIUM=$(chromium_path) node --test --test-concurrency=1 tests/e2e/page.test.mjs; }
stage "end-to-end tests of the page (scripts/demo.sh in headless Chromium)" page_e2e

log "all tests passed"
