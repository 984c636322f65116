#!/usr/bin/env bash
# Deletes what earlier builds and test runs left behind and nothing uses any more (run by
# scripts/setup.sh; safe to run any time no build is running):
# - in each target directory under $CONVLENS_CACHE, every unit (a dependency, a build script, a
#   test binary, an incremental cache) whose files Cargo has not read for CONVLENS_PRUNE_DAYS
#   days (default 2): the artefacts of feature sets, profiles, dependency versions and checkouts
#   no build uses now. Cargo rebuilds a pruned unit when it is wanted again. Read times come
#   from the file system (Linux's default `relatime` keeps them within a day);
# - the consumer projects of tests/e2e (~130 MB each) that a killed test run left in $TMPDIR.
# Prints what it freed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
days=${CONVLENS_PRUNE_DAYS:-2}
minutes=$((days * 1440))
before=$(df --output=avail -k "$CONVLENS_CACHE" | tail -1)

# A unit is stale when none of its files was read within the window.
stale() { [ -z "$(find "$1" -type f -amin "-$minutes" -print -quit 2>/dev/null)" ]; }

for target in "$CONVLENS_CACHE"/target-*; do
  [ -d "$target" ] || continue
  # <target>/<profile>/ and <target>/<triple>/<profile>/ hold deps/, build/, .fingerprint/ and
  # incremental/.
  while IFS= read -r -d '' profile; do
    # A unit's fingerprint is read by every build that uses it; its artefacts share its hash.
    for fingerprint in "$profile"/.fingerprint/*; do
      [ -d "$fingerprint" ] && stale "$fingerprint" || continue
      unit=${fingerprint##*/}
      hash=${unit##*-}
      rm -rf "$fingerprint" "$profile/build/$unit" "$profile/deps/"*"-$hash" "$profile/deps/"*"-$hash".*
    done
    for unit in "$profile"/build/* "$profile"/incremental/*; do
      [ -e "$unit" ] || continue
      case $unit in
        */build/*) [ -d "$profile/.fingerprint/${unit##*/}" ] || rm -rf "$unit" ;;
        *) stale "$unit" && rm -rf "$unit" ;;
      esac
    done
  done < <(find "$target" -mindepth 1 -maxdepth 3 -type d -name deps -printf '%h\0')
done

tmp=${TMPDIR:-/tmp}
find "$tmp" -mindepth 1 -maxdepth 1 -type d \( -name 'convlens-consumer-*' -o -name 'convlens-example-*' \) \
  -mmin +360 -exec rm -rf {} + 2>/dev/null || true

after=$(df --output=avail -k "$CONVLENS_CACHE" | tail -1)
freed=$(( (after - before) / 1024 ))
[ "$freed" -gt 0 ] && log "pruned ${freed} MiB of unused build artefacts and test projects" || true
