# Sourced by the other scripts: where caches live and how to build for wasm32 on this machine.
# Decides nothing slow; scripts/setup.sh installs what is missing and records the toolchain.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CONVLENS_CACHE=${CONVLENS_CACHE:-$HOME/.cache/convlens}
# Target directories live outside the clone so that a fresh clone (CI) builds warm.
export CONVLENS_NATIVE_TARGET=${CONVLENS_NATIVE_TARGET:-$CONVLENS_CACHE/target-native}
export CONVLENS_WASM_TARGET=${CONVLENS_WASM_TARGET:-$CONVLENS_CACHE/target-wasm}
# The threaded module's build (shared memory: std and every crate compiled with `atomics`).
export CONVLENS_WASM_THREADS_TARGET=${CONVLENS_WASM_THREADS_TARGET:-$CONVLENS_CACHE/target-wasm-threads}
# The IDX files of scripts/fetch-data.sh (the browser tests compile its small subsets in).
export CONVLENS_DATA=${CONVLENS_DATA:-$CONVLENS_CACHE/data}
export PATH="$HOME/.cargo/bin:$PATH"
mkdir -p "$CONVLENS_CACHE"

# Each line says how many seconds its script has run, so that a CI log shows where the time goes.
log() { printf '\033[1m[convlens %ss]\033[0m %s\n' "$SECONDS" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The wasm32 toolchain setup.sh chose: "rustup" (a toolchain with the wasm32 target) or
# "debian" (Debian's rustc-web building std from source). CONVLENS_WASM_TOOLCHAIN overrides.
wasm_toolchain() {
  if [ -n "${CONVLENS_WASM_TOOLCHAIN:-}" ]; then echo "$CONVLENS_WASM_TOOLCHAIN"
  elif [ -f "$CONVLENS_CACHE/wasm-toolchain" ]; then cat "$CONVLENS_CACHE/wasm-toolchain"
  else echo rustup
  fi
}

# Runs "$@" (cargo, trunk, ...) with what the chosen wasm32 toolchain needs.
with_wasm_env() {
  if [ "$(wasm_toolchain)" = debian ]; then
    PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 \
      CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22 \
      CARGO_TARGET_DIR="$CONVLENS_WASM_TARGET" "$@"
  else
    CARGO_TARGET_DIR="$CONVLENS_WASM_TARGET" "$@"
  fi
}

# Runs "$@" (cargo) for the threaded CPU module: wasm threads need shared memory, so std is
# rebuilt from its sources (-Zbuild-std: rustup's rust-src, or Debian's rust-web-src) with the
# `atomics` and `bulk-memory` features, in its own target directory (other flags, other
# artefacts), and linked with a shared, imported memory and the thread-local storage exports
# wasm-bindgen needs to start threads. Memory may grow to 4 GiB (a shared memory declares its
# maximum).
with_wasm_threads_env() {
  RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals $(
      printf -- '-C link-arg=%s ' --shared-memory --import-memory --max-memory=4294967296 \
        --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base)" \
    with_wasm_env env CARGO_TARGET_DIR="$CONVLENS_WASM_THREADS_TARGET" "$@"
}

# The wasm-bindgen version pinned in Cargo.lock (the CLI must match it exactly).
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# A wasm-bindgen-cli build that scripts/setup.sh left running in the background.
WASM_BINDGEN_PID=$CONVLENS_CACHE/wasm-bindgen-install.pid
WASM_BINDGEN_LOG=$CONVLENS_CACHE/wasm-bindgen-install.log
wasm_bindgen_installing() { [ -f "$WASM_BINDGEN_PID" ] && kill -0 "$(cat "$WASM_BINDGEN_PID")" 2>/dev/null; }
# Waits for that build, then checks that wasm-bindgen is the version Cargo.lock pins.
await_wasm_bindgen() {
  if wasm_bindgen_installing; then
    log "waiting for the wasm-bindgen-cli build (log: $WASM_BINDGEN_LOG)"
    while wasm_bindgen_installing; do sleep 2; done
  fi
  rm -f "$WASM_BINDGEN_PID"
  local want have
  want=$(wasm_bindgen_version)
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [ "$have" != "$want" ]; then
    [ -f "$WASM_BINDGEN_LOG" ] && tail -30 "$WASM_BINDGEN_LOG" >&2
    die "wasm-bindgen $want is not installed (found: ${have:-none}); run scripts/setup.sh"
  fi
}

# The npm package's wasm modules, all from the one crate. Four are one per backend × (inference,
# training): a page fetches the inference module of the backend it gets and the training one on
# the first fit(). Their features: `webgpu` (Burn's WebGPU backend and fusion) and `train`
# (autodiff, Adam, the training loop); every module has the CPU backend. A fifth,
# convlens_cpu_threads, replaces both CPU modules in worker mode on cross-origin isolated pages:
# the CPU kernels on a pool of Web Workers, with training; it is built with shared memory in its
# own target directory (with_wasm_threads_env). README: "The JS API and the npm package".
WASM_MODULES=(convlens_cpu convlens_webgpu convlens_cpu_train convlens_webgpu_train convlens_cpu_threads)
module_features() {
  case $1 in
    convlens_cpu) echo "" ;;
    convlens_webgpu) echo webgpu ;;
    convlens_cpu_train) echo train ;;
    convlens_webgpu_train) echo webgpu,train ;;
    convlens_cpu_threads) echo threads,train ;;
    *) return 1 ;;
  esac
}
# Where scripts/wasm-module.sh keeps the wasm module MODULE that cargo built in PROFILE (see there).
kept_module() { echo "$ROOT/target/wasm-modules/$1/$2.wasm"; }

chromedriver_path() { command -v chromedriver || echo /usr/bin/chromedriver; }
chromium_path() { command -v chromium || command -v chromium-browser || command -v google-chrome || echo /usr/bin/chromium; }
