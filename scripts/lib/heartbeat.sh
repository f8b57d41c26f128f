# Sourced by the set-up scripts (through python-tools.sh). A step that can take minutes is never
# silent: pip --quiet, apt-get and npm print nothing for long stretches, and cargo off a
# terminal prints nothing while it compiles one big crate. `with_heartbeat` says
# "... still <what> (1m30s so far)" on stderr every 30 s (CATUP_HEARTBEAT_SECONDS) until the
# command ends.

# with_heartbeat WHAT COMMAND...: runs COMMAND in the foreground (so Ctrl-C reaches it) with a
# heartbeat beside it; returns COMMAND's status, so `set -e` and pipefail see its failure.
with_heartbeat() {
  local what=$1 status=0
  shift
  heartbeat_start "$what"
  "$@" || status=$?
  heartbeat_stop
  return "$status"
}

# heartbeat_start WHAT / heartbeat_stop: the same around a pipeline or a few commands.
heartbeat_start() {
  local what=$1 every=${CATUP_HEARTBEAT_SECONDS:-30} script=$$ started=$SECONDS clear=
  heartbeat_stop
  # On a terminal, clear cargo's progress bar first, so the line reads whole.
  [ -t 2 ] && clear=$'\r\033[K'
  # A background loop ignores Ctrl-C and outlives a killed script: it ends itself within a
  # second of the script's end, whatever ended it.
  (
    next=$((started + every))
    while sleep 1 && kill -0 "$script" 2>/dev/null; do
      [ "$SECONDS" -ge "$next" ] || continue
      next=$((next + every))
      elapsed=$((SECONDS - started))
      if [ "$elapsed" -ge 60 ]; then
        elapsed=$(printf '%dm%02ds' $((elapsed / 60)) $((elapsed % 60)))
      else
        elapsed=${elapsed}s
      fi
      printf '%s... still %s (%s so far)\n' "$clear" "$what" "$elapsed" >&2
    done
  ) &
  heartbeat_pid=$!
}

heartbeat_stop() {
  [ -n "${heartbeat_pid:-}" ] || return 0
  kill "$heartbeat_pid" 2>/dev/null || true
  wait "$heartbeat_pid" 2>/dev/null || true
  heartbeat_pid=
}
