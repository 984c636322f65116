#!/usr/bin/env bash
# Runs every test: formatting, lints, the native tests (CPU backend, the CLI also on wgpu) and the browser tests
# (wasm-bindgen-test in headless Chromium with WebGPU on), then the packed package and the page end
# to end. Sets up the machine first. Work that does not depend on each other runs in parallel lanes
# (the native and the wasm builds; the package build and the browser tests; the package's and the
# page's end-to-end tests): one build alone leaves a core idle much of the time (a crate that
# everything waits for, a link with one code unit). Each lane's lines are prefixed with its name.
# Ends with a table of each stage's start and time (also when a stage fails).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

# What the lanes share: the stage rows, the tarball's path, the browser tests' executables.
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/convlens-test-XXXXXX")
LANE=main

source "$ROOT/scripts/lanes.sh"

print_stages() {
  local status=$? kind name lane value total
  local -A started=() took=() lane_of=()
  local order=()
  if [ -f "$RUN_DIR/stages" ]; then
    while IFS='|' read -r kind name lane value; do
      if [ "$kind" = start ]; then started[$name]=$value; lane_of[$name]=$lane; order+=("$name")
      else took[$name]=$value
      fi
    done < "$RUN_DIR/stages"
  fi
  local width=5 lanes=4
  for name in "${order[@]}"; do
    [ ${#name} -gt $width ] && width=${#name}
    [ ${#lane_of[$name]} -gt $lanes ] && lanes=${#lane_of[$name]}
  done
  {
    printf '\n%-*s %-*s %7s %9s\n' $width "stage" $lanes "lane" "start" "time"
    for name in "${order[@]}"; do
      printf '%-*s %-*s %4d:%02d ' $width "$name" $lanes "${lane_of[$name]}" $((started[$name] / 60)) $((started[$name] % 60))
      if [ -n "${took[$name]:-}" ]; then printf '%6d:%02d\n' $((took[$name] / 60)) $((took[$name] % 60))
      elif grep -qx "${lane_of[$name]}" "$RUN_DIR/failed" 2>/dev/null || [ "${lane_of[$name]}" = main ]; then printf '%9s\n' FAILED
      else printf '%9s\n' stopped
      fi
    done
    total=$SECONDS
    printf '%-*s %-*s %7s %6d:%02d\n' $width "total" $lanes "" "" $((total / 60)) $((total % 60))
  } >&2
  rm -rf "$RUN_DIR"
  exit $status
}
trap print_stages EXIT

# A fresh clone (CI) never reuses the crate's incremental caches: they are keyed by its path.
[ "${CI:-}" = true ] && export CARGO_INCREMENTAL=0

setup() { CONVLENS_BACKGROUND_TOOLS=1 "$ROOT/scripts/setup.sh"; }
stage "setup (scripts/setup.sh)" setup

stage "cargo fmt --check" cargo fmt --all -- --check

stage "the scripts' own tests (tests/scripts)" node --test tests/scripts/

stage "the JS API's unit tests (scripts/js-unit.sh: tests/js, the engine stubbed)" "$ROOT/scripts/js-unit.sh"

# No module imports another that imports it back (type-only imports count): madge on js/, and
# the crate's top-level modules.
import_circles() {
  npx --no-install madge --circular --extensions ts --ts-config js/tsconfig.json js/
  node scripts/rust-imports.mjs
}
stage "no import circles (madge on js/, scripts/rust-imports.mjs on src/)" import_circles

# --- The native lane: lints and tests; then, for the package, the photo model's weights, the wasm32
# lints and the threaded module (its own target directory: nothing else in the wasm lane waits
# for it). ---
clippy_native() {
  # With the native wgpu backend, which the CLI tests run on (Mesa's lavapipe where there is no GPU).
  CARGO_TARGET_DIR="$CONVLENS_NATIVE_TARGET" cargo clippy --locked --all-targets --features cli,wgpu -- -D warnings
}
native_tests() {
  CARGO_TARGET_DIR="$CONVLENS_NATIVE_TARGET" cargo test --locked --features cli,wgpu -- \
    --skip onnx_nodes:: --skip onnx_networks::
  # ONNX's node tests and the exported networks, their counts and differences printed (all of
  # their output where one fails).
  local log=$RUN_DIR/onnx-conformance.log
  CARGO_TARGET_DIR="$CONVLENS_NATIVE_TARGET" cargo test --locked --features cli,wgpu --test api -- \
    onnx_nodes:: onnx_networks:: --nocapture > "$log" 2>&1 || { cat "$log"; return 1; }
  grep -E "^ONNX node tests|largest difference|^test result" "$log"
}
clippy_wasm() {
  [ "$(wasm_toolchain)" = rustup ] || { log "skipped: the Debian toolchain has no clippy"; return 0; }
  with_wasm_env cargo clippy --locked --release --target wasm32-unknown-unknown --lib --tests -- -D warnings
  # The package's CPU inference module: neither `webgpu` nor `train` (code behind either gate).
  with_wasm_env cargo clippy --locked --release --target wasm32-unknown-unknown --lib --no-default-features -- -D warnings
}
threads_module() { "$ROOT/scripts/wasm-module.sh" convlens_cpu_threads >/dev/null; }
native() {
  stage "clippy (native)" clippy_native
  stage "native tests (CPU backend; the CLI also on wgpu)" native_tests
  stage "the photo model's weights (scripts/photo-weights.sh)" "$ROOT/scripts/photo-weights.sh"
  stage "clippy (wasm32)" clippy_wasm
  stage "the threaded wasm module (scripts/wasm-module.sh)" threads_module
}

# --- The wasm lane: the browser tests' build, then their run beside the package. ---

browser_build() {
  # The profile and features of the package's WebGPU training module (wasm-small; webgpu,train):
  # Burn in a debug wasm build is too slow, and the one build serves both. Its module is kept
  # where scripts/package.sh looks for it.
  local out fresh wasm unit kept
  out=$(with_wasm_env cargo test --locked --no-run --profile wasm-small --target wasm32-unknown-unknown \
    --no-default-features --features webgpu,train --test web \
    --message-format=json-render-diagnostics | node scripts/cargo-artifact.mjs convlens:cdylib web:test)
  read -r fresh wasm unit <<< "$(sed -n 1p <<< "$out")"
  kept=$(kept_module wasm-small convlens_webgpu_train)
  mkdir -p "${kept%/*}"
  if [ "$fresh" != true ]; then
    cp "$wasm" "$kept"
    echo "$unit" > "$kept.unit"
  fi
  sed -n '2,$p' <<< "$out" | awk '{ print $2 }' > "$RUN_DIR/browser-tests"
}

browser_run() {
  local test
  await_wasm_bindgen
  # SwiftShader needs a long timeout. What `cargo test` would run (.cargo/config.toml's runner).
  while read -r test; do
    log "wasm-bindgen-test-runner $test"
    with_wasm_env env CHROMEDRIVER="$(chromedriver_path)" WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-900}" \
      wasm-bindgen-test-runner "$test"
  done < "$RUN_DIR/browser-tests"
}
browser_tests() { stage "browser tests: run (headless Chromium, WebGPU)" browser_run; }

package() {
  local tarball
  tarball=$("$ROOT/scripts/package.sh")
  "$ROOT/scripts/check-package.sh" "$tarball"
  "$ROOT/scripts/page-data.sh"
  # The end-to-end tests install a copy: the page's test runs scripts/package.sh again beside them.
  cp "$tarball" "$RUN_DIR/convlens.tgz"
}
package_lane() { stage "the npm package (scripts/package.sh), checked for publishing" package; }

wasm() {
  stage "browser tests: build (wasm-small, the WebGPU training module's features)" browser_build
  parallel browser_tests package_lane
}

parallel native wasm

# --- End to end: the packed package, and the README's demo command, at the same time. ---
npm_e2e() {
  CONVLENS_TARBALL=$RUN_DIR/convlens.tgz CHROMIUM=$(chromium_path) \
    node --test --test-concurrency=2 tests/e2e/npm-node.test.mjs tests/e2e/npm-vite.test.mjs tests/e2e/npm-threads.test.mjs \
    tests/e2e/examples.test.mjs
}
# The packed package in fresh projects: Node, a Vite app in headless Chromium; its files with no
# bundler on a cross-origin isolated page (threads); examples/ (no bundler, Vite, webpack 5).
npm_lane() { stage "the packed package in Node, Vite, threads and the examples" npm_e2e; }

page_e2e() { CHROMIUM=$(chromium_path) node --test --test-concurrency=1 tests/e2e/page.test.mjs; }
page_lane() { stage "end-to-end tests of the page (scripts/demo.sh in headless Chromium)" page_e2e; }

parallel npm_lane page_lane

log "all tests passed"
