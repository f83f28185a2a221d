#!/usr/bin/env bash
# The README's test command: install from the locks, make sure PostgreSQL, LocalStack, Chromium and PgBouncer are
# there, lint, type-check, audit the lock, test (Python 3.11; the FL servers' client on Python 3.9 as
# well), then the handler tests again on Python 3.12 (the Lambda runtime's). Each pytest run creates
# (and drops) a database of its own on FLIP_TEST_PG's server; the SQS integration tests and the
# template's deploy test use LocalStack (no Docker), started here and stopped on exit when this run
# started it.
#
# It prints one line per stage as it ends (its time and, for a test stage, pytest's count) and a
# summary; each stage's full output is in .local/test-logs/<stage>.log, printed when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
LOGS=.local/test-logs
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log
run_started=$(date +%s)
summary=()

# m:ss since a start time (seconds since the epoch).
elapsed() {
  local seconds=$(($(date +%s) - $1))
  printf '%d:%02d' $((seconds / 60)) $((seconds % 60))
}

# pytest's final count from a stage's log ("1234 passed, 2 xfailed"), or nothing.
count() {
  grep -aE '^(=+ )?[0-9]+ (passed|failed|errors?)' "$1" | tail -n 1 | sed -E 's/^=+ //; s/ in [0-9.]+s.*$//; s/ =+$//' || true
}

# Report a finished stage: one line, kept for the summary; on failure its log, then stop.
#   report <stage> <started> <log> <status>
report() {
  local name=$1 started=$2 log=$3 status=$4 line
  line=$(printf '%-34s %6s  %s' "$name" "$(elapsed "$started")" "$(count "$log")")
  summary+=("$line")
  if [ "$status" -ne 0 ]; then
    echo "$line  FAILED (log: $log)"
    tail -n 60 "$log"
    exit 1
  fi
  echo "$line"
}

# Run one stage, its output to its log: stage <name> <log name> <command…>
stage() {
  local name=$1 log=$LOGS/$2.log started status=0
  shift 2
  started=$(date +%s)
  # In the background, then waited for: `set -e` holds inside it (a function called as the left
  # side of `||` would run on past a failing command).
  "$@" >"$log" 2>&1 &
  wait $! || status=$?
  report "$name" "$started" "$log" "$status"
}

install() {
  ensure_venv
  ensure_venv312
  ensure_tool sam-cli "$(python_version 3.12)"
  ensure_tool checkov "$(python_version 3.12)"
  ensure_postgres
  ensure_chromium
  ensure_pgbouncer
  # The client's Python 3.9 venv and LocalStack's venv, from their locks too.
  bash scripts/client.sh install
  bash scripts/localstack.sh install
}

lint() {
  .venv/bin/ruff check .
  .venv/bin/ruff format --check .
  .venv/bin/mypy
  bash scripts/client.sh mypy
  .venv/bin/python scripts/audit.py
}

echo "make test: each stage prints one line as it ends (logs in $LOGS/); about 15-25 minutes"
stage "install (locks, services)" install install
stage "lint (ruff, mypy, pip-audit)" lint lint

# LocalStack for tests/integration and tests/deploy (installed into .localstack/ from its lock, with
# our plugins). Stopped on exit only if this run started it; the FLIP-schema pytest too, if running.
export LOCALSTACK_ENDPOINT=${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}
started_localstack=false
flip_pid=""
cleanup() {
  [ -z "$flip_pid" ] || kill "$flip_pid" 2>/dev/null || true
  if $started_localstack; then
    bash scripts/localstack.sh stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
if ! bash scripts/localstack.sh status; then
  started_localstack=true
  stage "LocalStack start" localstack bash scripts/localstack.sh start
fi

# The FL servers' client on Python 3.9 (its own venv); the pytest below runs its tests on this Python.
stage "client tests on Python 3.9" client bash scripts/client.sh test

# Every database tier runs twice (SPEC §2): on a database the service's migrations built (the run
# below) and on FLIP's database, built from ../shared/flip-schema/flip_head.sql and then migrated
# (FLIP_TEST_SCHEMA=flip), in parallel. The second run takes the tiers that write and read the
# database: the service, the handlers (API, FL batches, the sweep), reliability, the local stack's
# pieces and the bench's smoke tests; the LocalStack integration and template tiers run once.
flip_log=$LOGS/pytest-flip.log
flip_started=$(date +%s)
FLIP_TEST_SCHEMA=flip .venv/bin/pytest tests/unit tests/handlers tests/reliability tests/local tests/bench \
  -q -p no:cacheprovider >"$flip_log" 2>&1 &
flip_pid=$!

stage "pytest (service's database)" pytest .venv/bin/pytest -q -p no:cacheprovider "$@"
flip_status=0
wait "$flip_pid" || flip_status=$?
flip_pid=""
report "pytest (FLIP's database)" "$flip_started" "$flip_log" "$flip_status"
stage "handlers on Python 3.12" handlers312 .venv312/bin/pytest tests/handlers -q -p no:cacheprovider

echo
echo "make test passed in $(elapsed "$run_started"):"
printf '  %s\n' "${summary[@]}"
