#!/usr/bin/env bash
# The README's test command: install from scratch, make sure PostgreSQL is up, lint, type-check, test.
# Each pytest run creates (and drops) a database of its own on FLIP_TEST_PG's server.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
ensure_venv
ensure_postgres

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy (shared/)"
.venv/bin/mypy
echo "== pytest"
.venv/bin/pytest "$@"
