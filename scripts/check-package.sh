#!/usr/bin/env bash
# Checks the packed npm package as the registry and its consumers see it: publint (package.json,
# `exports`, the files each condition points at), "are the types wrong" (types and JS resolve for
# ESM consumers in Node ≥ 16 and bundlers; the package is ESM-only, so CommonJS `require` is not
# offered and not checked), and `npm publish --dry-run`. Both tools are devDependencies
# (package-lock.json). Usage: scripts/check-package.sh TARBALL (scripts/package.sh prints it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
tarball=${1:?usage: scripts/check-package.sh TARBALL}
log "publint (strict)"
npx --no-install publint --strict target/npm >&2
log "are the types wrong (ESM-only profile)"
npx --no-install attw --profile esm-only "$tarball" >&2
log "npm publish --dry-run"
out=$(cd target/npm && npm publish --dry-run 2>&1) || { echo "$out" >&2; die "npm publish --dry-run failed"; }
version=$(node -p 'require("./target/npm/package.json").version')
grep -q "+ convlens@$version" <<<"$out" || { echo "$out" >&2; die "npm publish --dry-run did not publish convlens@$version"; }
log "the package is publishable: convlens@$version"
