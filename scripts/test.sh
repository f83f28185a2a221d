#!/usr/bin/env bash
# The README's test command: install from scratch, make sure PostgreSQL and LocalStack are up, lint,
# type-check, test (the FL servers' client on Python 3.9 as well as on the project's Python). Each
# pytest run creates (and drops) a database of its own on FLIP_TEST_PG's server; the SQS integration
# tests use LocalStack (no Docker), started here and stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
ensure_venv
ensure_postgres
ensure_chromium

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy (layer, functions, local stack, bench)"
.venv/bin/mypy
bash scripts/client.sh mypy
# LocalStack for tests/integration (installed into .localstack/ on first use). Stop it on exit only
# if this run started it.
export LOCALSTACK_ENDPOINT=${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}
if ! bash scripts/localstack.sh status; then
  trap 'bash scripts/localstack.sh stop' EXIT
  bash scripts/localstack.sh start
fi

# The FL servers' client on Python 3.9 (its own venv); the pytest below runs its tests on this Python.
bash scripts/client.sh test

echo "== pytest"
.venv/bin/pytest "$@"
