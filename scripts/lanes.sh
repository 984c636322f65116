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

# Process $1 and all its descendants, the deepest first.
tree() {
  local child
  for child in $(pgrep -P "$1" || true); do tree "$child"; done
  echo "$1"
}

# Runs each function named in "$@" in its own lane (a subshell, its lines prefixed with its name),
# all at once. Returns when all have succeeded; when one fails, stops the others and fails.
parallel() {
  local fn pid failed="" status
  local -A lanes=()
  # Each lane writes its exit status to a file, which is polled: `wait -n` loses a lane that
  # ends while another is being waited for ("no such job"), and then fails a run that passed.
  local done_dir
  done_dir=$(mktemp -d "$RUN_DIR/lanes-XXXXXX")
  for fn in "$@"; do
    (if (LANE=$fn; "$fn"); then status=0; else status=$?; fi; echo "$status" > "$done_dir/$fn") \
      > >(sed -u "s/^/[$fn] /" >&2) 2>&1 &
    lanes[$!]=$fn
  done
  while [ ${#lanes[@]} -gt 0 ]; do
    for pid in "${!lanes[@]}"; do
      fn=${lanes[$pid]}
      [ -s "$done_dir/$fn" ] || continue
      status=$(cat "$done_dir/$fn")
      wait "$pid" 2>/dev/null || true
      unset "lanes[$pid]"
      [ "$status" = 0 ] && continue
      failed=$fn
      echo "$failed" >> "$RUN_DIR/failed"
      # The others are stopped: asked first, then killed (a test runner may ignore SIGTERM),
      # and only they are waited for — not the line-prefixing processes, whose pipes a
      # surviving grandchild can hold open (a bare `wait` hung there, nested lanes never failed).
      # Their processes are listed before any is signalled: once a parent has gone, its
      # children are no longer found under it.
      local procs
      procs=$(for pid in "${!lanes[@]}"; do tree "$pid"; done)
      # shellcheck disable=SC2086
      kill -TERM $procs 2>/dev/null || true
      sleep 3
      # shellcheck disable=SC2086
      kill -KILL $procs 2>/dev/null || true
      for pid in "${!lanes[@]}"; do wait "$pid" 2>/dev/null || true; done
      log "lane $failed failed; stopped the others"
      return 1
    done
    [ ${#lanes[@]} -eq 0 ] || sleep 1
  done
}
