# Stages and lanes for scripts/test.sh (sourced; tests/scripts/lanes.test.mjs drives it alone).
# Needs RUN_DIR (the stage rows, the failed lanes), LANE and log (scripts/env.sh).

# Runs "$@" as a stage: writes its start and (when it succeeds) its time to the table.
stage() {
  local name=$1 t0=$SECONDS
  shift
  log "$name"
  printf 'start|%s|%s|%s\n' "$name" "$LANE" "$t0" >> "$RUN_DIR/stages"
  "$@"
  printf 'end|%s|%s|%s\n' "$name" "$LANE" "$((SECONDS - t0))" >> "$RUN_DIR/stages"
}

# Sends signal $2 (TERM by default) to process $1 and all its descendants, the deepest first.
kill_tree() {
  local child
  for child in $(pgrep -P "$1" || true); do kill_tree "$child" "${2:-TERM}"; done
  kill -"${2:-TERM}" "$1" 2>/dev/null || true
}

# Runs each function named in "$@" in its own lane (a subshell, its lines prefixed with its name),
# all at once. Returns when all have succeeded; when one fails, stops the others and fails.
parallel() {
  local fn pid failed=""
  local -A lanes=()
  for fn in "$@"; do
    (LANE=$fn; "$fn") > >(sed -u "s/^/[$fn] /" >&2) 2>&1 &
    lanes[$!]=$fn
  done
  while [ ${#lanes[@]} -gt 0 ]; do
    if wait -n -p pid "${!lanes[@]}"; then
      unset "lanes[$pid]"
    else
      failed=${lanes[$pid]}
      unset "lanes[$pid]"
      echo "$failed" >> "$RUN_DIR/failed"
      # The others are stopped: asked first, then killed (a test runner may ignore SIGTERM),
      # and only they are waited for — not the line-prefixing processes, whose pipes a
      # surviving grandchild can hold open (a bare `wait` hung there, nested lanes never failed).
      for pid in "${!lanes[@]}"; do kill_tree "$pid"; done
      sleep 3
      for pid in "${!lanes[@]}"; do kill_tree "$pid" KILL; done
      for pid in "${!lanes[@]}"; do wait "$pid" 2>/dev/null || true; done
      log "lane $failed failed; stopped the others"
      return 1
    fi
  done
}
