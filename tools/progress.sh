# Sourced by the tool installers (they define say).
# Runs a long build with a progress line every 30 s so a first run does not look hung.
with_progress() {
  local what=$1; shift
  local started=$SECONDS next=30
  "$@" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 2
    if (( SECONDS - started >= next )) && kill -0 "$pid" 2>/dev/null; then
      say "still building $what ($((SECONDS - started)) s so far)"
      next=$((next + 30))
    fi
  done
  wait "$pid"
  say "built $what in $((SECONDS - started)) s"
}
