#!/usr/bin/env bash
# Runs every test: formatting, lints, the native tests (CPU backend, the CLI also on wgpu) and the browser tests
# (wasm-bindgen-test in headless Chromium with WebGPU on). Sets up the machine first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"

log "cargo fmt --check"
cargo fmt --all -- --check

log "clippy (native)"
# With the native wgpu backend, which the CLI tests run on (Mesa's lavapipe where there is no GPU).
CARGO_TARGET_DIR="$CONVLENS_NATIVE_TARGET" cargo clippy --locked --all-targets --features cli,wgpu -- -D warnings
if [ "$(wasm_toolchain)" = rustup ]; then
  log "clippy (wasm32)"
  with_wasm_env cargo clippy --locked --release --target wasm32-unknown-unknown --lib --tests -- -D warnings
  # The package's CPU inference module: neither `webgpu` nor `train` (code behind either gate).
  with_wasm_env cargo clippy --locked --release --target wasm32-unknown-unknown --lib --no-default-features -- -D warnings
fi

log "native tests (CPU backend; the CLI also on wgpu)"
CARGO_TARGET_DIR="$CONVLENS_NATIVE_TARGET" cargo test --locked --features cli,wgpu

log "browser tests (headless Chromium, WebGPU)"
# The profile the package ships (wasm-small): Burn in a debug wasm build is too slow, and sharing
# the package's dependency build saves a whole optimised build of Burn for wasm (15–18 min cold
# here). SwiftShader needs a long timeout.
CHROMEDRIVER=$(chromedriver_path) WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-900} \
  with_wasm_env cargo test --locked --profile wasm-small --target wasm32-unknown-unknown --test web --test web_training

log "the npm package (scripts/package.sh), checked for publishing (scripts/check-package.sh)"
tarball=$("$ROOT/scripts/package.sh")
"$ROOT/scripts/check-package.sh" "$tarball"
"$ROOT/scripts/page-data.sh"

log "the packed package in fresh projects: Node, a Vite app in headless Chromium; its files with no bundler on a cross-origin isolated page (threads); examples/ (no bundler, Vite, webpack 5)"
CONVLENS_TARBALL=$tarball CHROMIUM=$(chromium_path) \
  node --test --test-concurrency=1 tests/e2e/npm-node.test.mjs tests/e2e/npm-vite.test.mjs tests/e2e/npm-threads.test.mjs \
  tests/e2e/examples.test.mjs

log "end-to-end tests of the page (scripts/demo.sh in headless Chromium)"
CHROMIUM=$(chromium_path) node --test --test-concurrency=1 tests/e2e/page.test.mjs

log "all tests passed"
