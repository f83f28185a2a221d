#!/usr/bin/env bash
# The README's test command: install from the locks, make sure PostgreSQL, LocalStack, Chromium and PgBouncer are
# there, lint, type-check, audit the lock, test (Python 3.11; the FL servers' client on Python 3.9 as
# well), then the handler tests again on Python 3.12 (the Lambda runtime's). Each pytest run creates
# (and drops) a database of its own on FLIP_TEST_PG's server; the SQS integration tests and the
# template's deploy test use LocalStack (no Docker), started here and stopped on exit when this run
# started it.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
started=$(date +%s)
ensure_venv
ensure_venv312
ensure_tool sam-cli "$(python_version 3.12)"
ensure_tool checkov "$(python_version 3.12)"
echo "== installed in $(($(date +%s) - started)) s"
ensure_postgres
ensure_chromium
ensure_pgbouncer

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy (layer, functions, local stack, bench)"
.venv/bin/mypy
bash scripts/client.sh mypy
echo "== pip-audit (uv.lock)"
.venv/bin/python scripts/audit.py

# LocalStack for tests/integration and tests/deploy (installed into .localstack/ on first use, with
# our plugins). Stop it on exit only if this run started it.
export LOCALSTACK_ENDPOINT=${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}
if ! bash scripts/localstack.sh status; then
  trap 'bash scripts/localstack.sh stop' EXIT
  bash scripts/localstack.sh start
fi

# The FL servers' client on Python 3.9 (its own venv); the pytest below runs its tests on this Python.
bash scripts/client.sh test

# Every database tier runs twice (SPEC §2): on a database the service's migrations built (the run
# below) and on FLIP's database, built from ../shared/flip-schema/flip_head.sql and then migrated
# (FLIP_TEST_SCHEMA=flip), in parallel. The second run takes the tiers that write and read the
# database: the service, the handlers (API, FL batches, the sweep), reliability, the local stack's
# pieces and the bench's smoke tests; the LocalStack integration and template tiers run once.
flip_log=$(mktemp)
echo "== pytest on FLIP's database (FLIP_TEST_SCHEMA=flip), in the background"
FLIP_TEST_SCHEMA=flip .venv/bin/pytest tests/unit tests/handlers tests/reliability tests/local tests/bench \
  -q -p no:cacheprovider >"$flip_log" 2>&1 &
flip_pid=$!

echo "== pytest"
if ! .venv/bin/pytest "$@"; then
  kill "$flip_pid" 2>/dev/null || true
  exit 1
fi
if wait "$flip_pid"; then
  echo "== pytest on FLIP's database: $(tail -n 1 "$flip_log")"
else
  echo "== pytest on FLIP's database failed:"
  cat "$flip_log"
  exit 1
fi
echo "== pytest tests/handlers on Python 3.12 (the Lambda runtime's)"
.venv312/bin/pytest tests/handlers -q -p no:cacheprovider
