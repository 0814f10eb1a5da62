# Runs test layers side by side: each in its own process group, its output in its own log file
# (interleaved output of four test runners would be unreadable). Sourced by scripts/test.sh,
# after scripts/lib/ensure-tools.sh (for say/die).
#
#   start_layer NAME COMMAND...   start COMMAND (a function works too; words without quoting) in
#                                 the background, or queue it while FULCRUM_TEST_JOBS run
#   wait_layers                   wait until every layer has passed, calling on_layer_passed NAME
#                                 (if defined) as each one does; the first one that fails prints
#                                 its log, stops every other layer, and exits the script with 1
#
# Most of the suite waits on sockets and timers, so layers overlap well even on two cores.
# On exit (a failure, Ctrl-C, `kill`) every layer still running is stopped, its whole process
# group (test runners, consoles, agents, HAProxy, Chromium) with it.

LAYER_LOG_DIR=${FULCRUM_TEST_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/fulcrum-test-logs-XXXXXX")}
mkdir -p "$LAYER_LOG_DIR"
# At most this many layers run at once (default: one per core, at least two); the others wait
# their turn, in the order they were started. Four at once on a busy two-core machine starved
# PGlite's start and agent processes past their limits.
LAYER_JOBS=${FULCRUM_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
[ "$LAYER_JOBS" -ge 2 ] || LAYER_JOBS=2
declare -A LAYER_PID=() LAYER_STARTED=() LAYER_CMD=()
LAYER_QUEUE=()

start_layer() {
  local name=$1
  shift
  : >"$LAYER_LOG_DIR/$name.log"
  LAYER_CMD[$name]="$*"
  if [ ${#LAYER_PID[@]} -ge "$LAYER_JOBS" ] || [ ${#LAYER_QUEUE[@]} -gt 0 ]; then
    LAYER_QUEUE+=("$name")
    say "layer $name waits for a free slot (log: $LAYER_LOG_DIR/$name.log)"
    return 0
  fi
  run_layer "$name"
}

run_layer() {
  local name=$1
  # shellcheck disable=SC2086 # the command is a function name and its words
  set -- ${LAYER_CMD[$name]}
  # Job control gives the background job a process group of its own (its pgid is its pid),
  # so stopping the layer reaches every process it started; the terminal's Ctrl-C reaches only
  # this script, whose trap stops the layers.
  set -m
  ("$@") </dev/null >"$LAYER_LOG_DIR/$name.log" 2>&1 &
  LAYER_PID[$name]=$!
  set +m
  LAYER_STARTED[$name]=$SECONDS
  say "started layer $name (log: $LAYER_LOG_DIR/$name.log)"
}

stop_layers() {
  local name pid
  LAYER_QUEUE=()
  [ ${#LAYER_PID[@]} -gt 0 ] || return 0
  for name in "${!LAYER_PID[@]}"; do
    pid=${LAYER_PID[$name]}
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  # A grace period for servers to close, then anything left is killed.
  sleep 2
  for name in "${!LAYER_PID[@]}"; do
    kill -KILL -- "-${LAYER_PID[$name]}" 2>/dev/null || true
  done
  LAYER_PID=()
}

# Prints a finished layer's log: all of it in CI (it is the only record), its end otherwise.
show_layer_log() {
  local name=$1 log="$LAYER_LOG_DIR/$1.log"
  printf '\033[1;34m----- %s: %s\033[0m\n' "$name" "$log"
  if [ "${CI:-}" = "true" ]; then cat "$log"; else tail -n 150 "$log"; fi
  printf '\033[1;34m----- end of %s\033[0m\n' "$name"
}

wait_layers() {
  local name status finished took
  while [ ${#LAYER_PID[@]} -gt 0 ] || [ ${#LAYER_QUEUE[@]} -gt 0 ]; do
    while [ ${#LAYER_QUEUE[@]} -gt 0 ] && [ ${#LAYER_PID[@]} -lt "$LAYER_JOBS" ]; do
      run_layer "${LAYER_QUEUE[0]}"
      LAYER_QUEUE=("${LAYER_QUEUE[@]:1}")
    done
    finished=
    status=0
    wait -n -p finished "${LAYER_PID[@]}" || status=$?
    for name in "${!LAYER_PID[@]}"; do
      [ "${LAYER_PID[$name]}" = "$finished" ] || continue
      # Whatever the layer left behind (a server a failed test did not stop) goes with it.
      kill -KILL -- "-$finished" 2>/dev/null || true
      unset "LAYER_PID[$name]"
      took=$((SECONDS - LAYER_STARTED[$name]))
      if [ "$status" -ne 0 ]; then
        show_layer_log "$name"
        stop_layers
        die "layer $name failed (exit $status after $took s); logs of every layer: $LAYER_LOG_DIR"
      fi
      [ "${CI:-}" = "true" ] && show_layer_log "$name"
      say "layer $name passed in $took s"
      # A layer that needs this one (the browser tests need the console build) starts now.
      if declare -F on_layer_passed >/dev/null; then on_layer_passed "$name"; fi
    done
  done
}

trap 'stop_layers' EXIT
trap 'stop_layers; exit 130' INT
trap 'stop_layers; exit 143' TERM
