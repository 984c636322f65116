#!/usr/bin/env bash
# Builds the demo page (release wasm) and serves it on 127.0.0.1. PORT=8080 by default.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
PORT=${PORT:-8080}
log "building the page; it will be served at http://127.0.0.1:$PORT/"
with_wasm_env trunk serve --release --offline --address 127.0.0.1 --port "$PORT" --no-autoreload
