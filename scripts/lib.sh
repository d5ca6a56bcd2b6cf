# Sourced by scripts/test, scripts/vscode-e2e, scripts/package-vsix and editors/nvim/scripts/lint:
# one progress line per step with the time since the outermost script started, npm ci only when
# the lock file changed, and long installs quiet on screen with their output in a named log.

ARDAEMON_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ARDAEMON_T0=${ARDAEMON_T0:-$(date +%s)}
export ARDAEMON_T0

step() {
  local s=$(($(date +%s) - ARDAEMON_T0))
  printf '==> [%d:%02d] %s\n' $((s / 60)) $((s % 60)) "$*" >&2
}

# npm ci in directory $1 unless its node_modules was installed from this very package-lock.json.
npm_ci() {
  local dir=$1 sum stamp=$1/node_modules/.ardaemon-lock.sha256
  sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    return 0
  fi
  step "npm ci in ${dir#"$ARDAEMON_ROOT"/} (new or changed package-lock.json)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$sum" >"$stamp"
}

# logged NAME COMMAND...: run COMMAND with its output in artifacts/setup-logs/NAME.log (named on
# screen); on failure print the log's tail and fail.
logged() {
  local log=$ARDAEMON_ROOT/artifacts/setup-logs/$1.log
  shift
  mkdir -p "$(dirname "$log")"
  echo "    output: $log" >&2
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "failed: the whole output is in $log" >&2
    return 1
  fi
}
