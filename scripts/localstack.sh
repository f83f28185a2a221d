#!/usr/bin/env bash
# LocalStack without Docker, for the SQS integration tests (SPEC §7) and the template's deploy test:
#   scripts/localstack.sh install   localstack-core into .localstack/venv (Python 3.13) from
#                                   requirements/localstack.txt (hashes, `make lock`), with our
#                                   plugins (scripts/localstack_plugins), if missing or stale
#   scripts/localstack.sh start     install, start in the background (pid + log under .localstack/), wait
#   scripts/localstack.sh stop      stop the LocalStack this script started (by its pid file)
#   scripts/localstack.sh status    exit 0 when the gateway answers
# The gateway listens on LOCALSTACK_ENDPOINT's port (default http://127.0.0.1:4566), loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

LOCK=requirements/localstack.txt  # localstack-core 2026.3.0 and what it needs (requirements/localstack.in)
DIR=.localstack
VENV=$DIR/venv
PIDFILE=$DIR/localstack.pid
LOG=$DIR/localstack.log
ENDPOINT=${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}
PORT=${ENDPOINT##*:}
PORT=${PORT%%/*}
START_TIMEOUT=${LOCALSTACK_START_TIMEOUT:-180}
# Our plugins: functions are created Active and never run (no Docker), dashboards are created.
PLUGINS=scripts/localstack_plugins
EXECUTOR=flip-refuse

source scripts/lib.sh

python313() {
  if [ -n "${LOCALSTACK_PYTHON:-}" ]; then
    echo "$LOCALSTACK_PYTHON"
  else
    python_version 3.13
  fi
}

# Installed from the lock as it is now (its digest, written after a complete install), and whole.
localstack_installed() {
  [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/installed-lock" 2>/dev/null)" = "$(sha256sum <"$LOCK")" ] &&
    "$VENV/bin/python" -c "
import rolo, moto, localstack
from OpenSSL.crypto import X509
assert hasattr(X509, 'add_extensions')" 2>/dev/null
}

# Our plugins installed are the repository's (same source, byte for byte).
plugins_installed() {
  "$VENV/bin/python" -c "
import filecmp, sys, flip_localstack_plugins as p
sys.exit(not filecmp.cmp(p.__file__, '$PLUGINS/flip_localstack_plugins.py', shallow=False))" 2>/dev/null
}

install() {
  if ! localstack_installed; then
    ensure_uv
    echo "== installing LocalStack into $VENV from $LOCK"
    mkdir -p "$DIR"
    [ -x "$VENV/bin/python" ] || "$UV" venv --quiet --python "$(python313)" "$VENV"
    "$UV" pip sync --quiet --require-hashes --python "$VENV/bin/python" "$LOCK"
    sha256sum <"$LOCK" >"$VENV/installed-lock"
  fi
  if ! plugins_installed; then
    echo "== installing our LocalStack plugins ($PLUGINS) into $VENV"
    local build
    build=$(mktemp -d)
    cp -R "$PLUGINS/." "$build/" # built outside the repository: no build/ or egg-info here
    "$UV" pip install --quiet --no-deps --reinstall --python "$VENV/bin/python" "$build"
    rm -rf "$build"
  fi
}

healthy() {
  curl -sf --max-time 2 "$ENDPOINT/_localstack/health" >/dev/null 2>&1
}

start() {
  if healthy; then
    echo "== LocalStack already answers on $ENDPOINT"
    return 0
  fi
  install
  mkdir -p "$DIR/data"
  echo "== starting LocalStack on $ENDPOINT (log: $LOG)"
  GATEWAY_LISTEN="127.0.0.1:$PORT" \
    LOCALSTACK_HOST="127.0.0.1:$PORT" \
    SQS_ENDPOINT_STRATEGY=path \
    SKIP_SSL_CERT_DOWNLOAD=1 \
    DISABLE_EVENTS=1 \
    LAMBDA_RUNTIME_EXECUTOR=$EXECUTOR \
    FILESYSTEM_ROOT="$PWD/$DIR/data" \
    nohup "$VENV/bin/python" -m localstack.runtime.main >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  local waited=0
  until healthy; do
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "LocalStack exited during start-up; last lines of $LOG:" >&2
      tail -n 30 "$LOG" >&2
      rm -f "$PIDFILE"
      return 1
    fi
    if [ "$waited" -ge "$START_TIMEOUT" ]; then
      echo "LocalStack did not answer within ${START_TIMEOUT}s; see $LOG" >&2
      stop
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "== LocalStack ready after ${waited}s"
}

stop() {
  if [ ! -f "$PIDFILE" ]; then
    return 0
  fi
  local pid
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    echo "== stopping LocalStack (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) healthy ;;
  *)
    echo "usage: $0 install|start|stop|status" >&2
    exit 2
    ;;
esac
