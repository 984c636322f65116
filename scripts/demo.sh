#!/usr/bin/env bash
# Builds the npm package (scripts/package.sh: profile wasm-small) and the datasets' browser
# subsets, and serves the demo page on 127.0.0.1 (scripts/serve.mjs). PORT=8080 by default.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
PORT=${PORT:-8080}
log "building the page; it will be served at http://127.0.0.1:$PORT/"
"$ROOT/scripts/package.sh" >/dev/null
"$ROOT/scripts/page-data.sh"
exec node "$ROOT/scripts/serve.mjs" --port "$PORT"
