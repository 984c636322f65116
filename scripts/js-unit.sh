#!/usr/bin/env bash
# The JS API's unit tests (tests/js/): js/ compiled on its own — no wasm module, no package —
# into a temporary directory, and run with Node's test runner. The engine is stubbed, so they
# run before (and without) any wasm build. Arguments go to `node --test`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
dist=$(mktemp -d "${TMPDIR:-/tmp}/convlens-js-XXXXXX")
trap 'rm -rf "$dist"' EXIT
# --noCheck: type-checking needs the wasm modules' generated types; scripts/package.sh checks.
npx --no-install tsc -p js --noCheck --declaration false --outDir "$dist"
CONVLENS_JS=$dist node --test "$@" tests/js/
