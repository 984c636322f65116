#!/usr/bin/env bash
# Builds the npm package from the crate and js/: wasm-bindgen output + the compiled TypeScript
# API + the shipped weights, into target/npm/, and packs it into target/npm/convlens-VERSION.tgz.
# Prints the tarball's path. CONVLENS_PACKAGE_PROFILE picks the cargo profile (default
# wasm-small, what users get; `release` builds faster while developing).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

profile=${CONVLENS_PACKAGE_PROFILE:-wasm-small}
wasm="$CONVLENS_WASM_TARGET/wasm32-unknown-unknown/$profile/convlens.wasm"
# Checkouts share the target directory, and a cdylib's file name has no hash: when another
# checkout wrote convlens.wasm last, cargo would still call ours fresh. Make it rebuild.
if [ -f "$wasm" ] && [ "$(cat "$wasm.checkout" 2>/dev/null)" != "$ROOT" ]; then
  touch src/lib.rs
fi
log "building the wasm module (profile $profile)"
with_wasm_env cargo build --locked --profile "$profile" --target wasm32-unknown-unknown --lib >&2
echo "$ROOT" > "$wasm.checkout"

log "wasm-bindgen --target web"
rm -rf js/wasm target/npm
wasm-bindgen --target web --out-dir js/wasm --out-name convlens "$wasm" >&2

log "tsc"
npx tsc -p js >&2

out=target/npm
mkdir -p "$out/dist/wasm" "$out/weights"
cp js/wasm/convlens.js js/wasm/convlens.d.ts js/wasm/convlens_bg.wasm "$out/dist/wasm/"
cp weights/*.bpk "$out/weights/"
cp js/README.md "$out/README.md"
version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)
node -e '
  const fs = require("fs");
  const pkg = JSON.parse(fs.readFileSync("js/package.json", "utf8"));
  pkg.version = process.argv[1];
  fs.writeFileSync(process.argv[2], JSON.stringify(pkg, null, 2) + "\n");
' "$version" "$out/package.json"
(cd "$out" && npm pack --silent >&2)
echo "$ROOT/$out/convlens-$version.tgz"
